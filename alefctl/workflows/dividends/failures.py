"""Failed dividend payments: retried to their holder, or re-routed to another account.

A payment fails when its recipient may not receive (distribution.REFUSAL_SQL: a deactivated
account); it keeps the reason, and its net stays owed by the declaration (the issuer funded it;
`alefctl check` counts it in flight). `retry_failed` (admins) puts failed payments back to
pending and pays them at once, in one transaction, through the same payment statement as the
distribution: a recipient still refused fails again with the reason. With `to_email`, one fiat
or stablecoin payment is re-routed: paid to that active account instead (paid_to), the holder's
row kept. Token dividends are not re-routed: their tokens are minted to the holder's wallet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.ids import parse_id
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends.declaration import Dividend, get_dividend
from alefctl.workflows.dividends.distribution import pay_claimed
from alefctl.workflows.users import get_user

RETRYABLE_STATUSES = ("distributing", "distributed")


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


def retry_failed(conn: Connection, actor: Actor, ref: str, payment_ref: str | None = None,
                 to_email: str | None = None) -> RetryResult:
    """Pay a declaration's failed payments again (or one; to_email re-routes that one)."""
    policy.require(actor, "dividend.retry")
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if dividend.status not in RETRYABLE_STATUSES:
        raise Conflict(f"cannot retry: the dividend is {dividend.status} (needs"
                       f" {' or '.join(RETRYABLE_STATUSES)})")
    recipient = _reroute_target(conn, dividend, payment_ref, to_email)
    payment_id = parse_id(payment_ref, field="payment") if payment_ref else None
    claimed = conn.execute(text(
        "UPDATE dividend_payments SET status = 'pending', failure_reason = NULL, failed_at = NULL,"
        " paid_to = coalesce(CAST(:to AS uuid), paid_to) WHERE dividend_id = :d AND status = 'failed'"
        " AND (CAST(:p AS uuid) IS NULL OR id = :p)"
        " RETURNING id, user_id, coalesce(paid_to, user_id) AS recipient"),
        {"d": dividend.id, "p": payment_id, "to": recipient}).all()
    if payment_id is not None and not claimed:
        raise Conflict(f"payment {payment_ref} of dividend {dividend.id} is not failed")
    claimed.sort(key=lambda c: c.recipient)
    paid, failed = (pay_claimed(conn, dividend.id, dividend.dividend_type, dividend.token_id,
                                claimed) if claimed else (0, 0))
    after = get_dividend(conn, actor, str(dividend.id))
    if claimed:
        actor.audit(conn, "dividend.retry", "dividend_declaration", dividend.id,
                    before={"failed": dividend.failed_count},
                    after={"retried": [c.id for c in claimed], "paid": paid, "failed": failed,
                           "rerouted_to": to_email})
    return RetryResult(after, len(claimed), paid, failed)


def _reroute_target(conn: Connection, dividend: Dividend, payment_ref: str | None,
                    to_email: str | None) -> Any:
    if to_email is None:
        return None
    if payment_ref is None:
        raise InvalidInput("re-routing names one payment (--payment)", field="payment")
    if dividend.dividend_type == "token":
        raise InvalidInput("a token dividend is not re-routed: its tokens are minted to the"
                           " holder's wallet", field="to")
    user = get_user(conn, to_email)
    if not user.is_activated or user.is_system:
        raise Conflict(f"{user.email} may not receive payments (deactivated or a system account)")
    return user.id
