"""Failed dividend payments: retried to their holder, or re-routed to another account.

A payment fails when its recipient may not receive (distribution.REFUSAL_SQL: a deactivated
account); it keeps the reason, and its net stays owed by the declaration (the issuer funded it;
`alefctl check` counts it in flight). `retry_failed` (admins) puts failed payments back to
pending and pays them at once, in one transaction, through the same payment statement as the
distribution: a recipient still refused fails again with the reason.

Re-routing pays one fiat or stablecoin payment to another active account instead (paid_to; the
holder's row is kept). Sending a holder's money elsewhere is a severe operation: `request_reroute`
opens a four-eyes request (kind `dividend.reroute`, workflows/approvals.py) and another admin's
approval runs `execute_reroute` exactly once. Token dividends are not re-routed: their tokens
are minted to the holder's wallet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.ids import parse_id
from alefctl.workflows import approvals, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends.declaration import Dividend, get_dividend
from alefctl.workflows.dividends.distribution import pay_claimed
from alefctl.workflows.users import get_user

RETRYABLE_STATUSES = ("distributing", "distributed")
REROUTE = "dividend.reroute"  # the approval request's kind (approvals.OPERATIONS)
RETRY_SQL = (
    "UPDATE dividend_payments SET status = 'pending', failure_reason = NULL, failed_at = NULL,"
    " paid_to = coalesce(CAST(:to AS uuid), paid_to) WHERE dividend_id = :d AND status = 'failed'"
    " AND (CAST(:p AS uuid) IS NULL OR id = :p)"
    " RETURNING id, user_id, coalesce(paid_to, user_id) AS recipient"
)


@dataclass(frozen=True)
class RetryResult:
    """What a retry did, and the declaration after it."""

    dividend: Dividend
    retried: int
    paid: int
    failed: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"retried": self.retried, "paid": self.paid, "failed": self.failed,
                "dividend": self.dividend.to_dict()}


def retry_failed(conn: Connection, actor: Actor, ref: str, payment_ref: str | None = None) -> RetryResult:
    """Pay a declaration's failed payments (or one) again, to their recipients (admins)."""
    policy.require(actor, "dividend.retry")
    dividend = _retryable(conn, actor, ref)
    payment_id = parse_id(payment_ref, field="payment") if payment_ref else None
    return _retry(conn, actor, dividend, payment_id, None)


def request_reroute(conn: Connection, actor: Actor, ref: str, payment_ref: str,
                    to_email: str) -> approvals.ApprovalRequest:
    """Ask a second admin to pay one failed payment to another account (admins)."""
    policy.require(actor, "dividend.retry")
    dividend = _retryable(conn, actor, ref)
    payment = _failed_payment(conn, dividend, parse_id(payment_ref, field="payment"))
    recipient = _reroute_target(conn, dividend, to_email)
    return approvals.request(conn, actor, REROUTE, {
        "dividend_id": str(dividend.id), "payment_id": str(payment.id), "symbol": dividend.symbol,
        "holder": payment.email, "to_user_id": str(recipient), "to_email": to_email.strip().lower(),
        "net_amount": payment.net_amount, "failure_reason": payment.failure_reason})


def execute_reroute(conn: Connection, actor: Actor, params: dict[str, Any]) -> dict[str, Any]:
    """The approval's operation: re-route and pay the payment (run by approvals.approve)."""
    policy.require(actor, "dividend.retry")
    dividend = _retryable(conn, actor, params["dividend_id"])
    payment = _failed_payment(conn, dividend, uuid.UUID(params["payment_id"]))
    recipient = _reroute_target(conn, dividend, params["to_email"])
    result = _retry(conn, actor, dividend, payment.id, recipient)
    if result.failed:
        raise Conflict(f"{params['to_email']} may not receive the payment")
    return {"dividend_id": params["dividend_id"], "payment_id": params["payment_id"],
            "paid_to": params["to_email"], "paid": result.paid}


def _retry(conn: Connection, actor: Actor, dividend: Dividend, payment_id: uuid.UUID | None,
           recipient: uuid.UUID | None) -> RetryResult:
    claimed = sorted(conn.execute(text(RETRY_SQL), {"d": dividend.id, "p": payment_id,
                                                    "to": recipient}),
                     key=lambda c: c.recipient)  # the lock order of the recipients
    if payment_id is not None and not claimed:
        raise Conflict(f"payment {payment_id} of dividend {dividend.id} is not failed")
    paid, failed = (pay_claimed(conn, dividend.id, dividend.dividend_type, dividend.token_id,
                                claimed) if claimed else (0, 0))
    if claimed:
        actor.audit(conn, "dividend.retry", "dividend_declaration", dividend.id,
                    before={"failed": dividend.failed_count},
                    after={"retried": [c.id for c in claimed], "paid": paid, "failed": failed,
                           "paid_to": recipient})
    return RetryResult(get_dividend(conn, actor, str(dividend.id)), len(claimed), paid, failed)


def _retryable(conn: Connection, actor: Actor, ref: str) -> Dividend:
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if dividend.status not in RETRYABLE_STATUSES:
        raise Conflict(f"cannot retry: the dividend is {dividend.status} (needs"
                       f" {' or '.join(RETRYABLE_STATUSES)})")
    return dividend


def _failed_payment(conn: Connection, dividend: Dividend, payment_id: uuid.UUID) -> Any:
    payment = conn.execute(text(
        "SELECT p.id, u.email, p.net_amount, p.status, p.failure_reason FROM dividend_payments p"
        " JOIN users u ON u.id = p.user_id WHERE p.id = :p AND p.dividend_id = :d"),
        {"p": payment_id, "d": dividend.id}).first()
    if payment is None or payment.status != "failed":
        raise Conflict(f"payment {payment_id} of dividend {dividend.id} is not failed")
    return payment


def _reroute_target(conn: Connection, dividend: Dividend, to_email: str) -> uuid.UUID:
    if dividend.dividend_type == "token":
        raise InvalidInput("a token dividend is not re-routed: its tokens are minted to the"
                           " holder's wallet", field="to")
    user = get_user(conn, to_email)
    if not user.is_activated or user.is_system:
        raise Conflict(f"{user.email} may not receive payments (deactivated or a system account)")
    return user.id
