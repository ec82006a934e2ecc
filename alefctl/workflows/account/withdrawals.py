"""Investors' withdrawal requests: held at once, paid out only when an admin confirms.

A request names its currency: USD (the default) or USDC (user_balances), counted 1:1 to USD
against the threshold; the held row, the payout and a refund all move that currency.

A request holds its amount (a pending 'withdrawal' wallet transaction: money.py's escrow), so
the money cannot be spent twice nor the balance go below zero; sale proceeds whose trade has
not settled on-chain cannot be withdrawn yet. An admin confirms it (the money leaves: the row
completes) or rejects it with a reason (the row is cancelled: the money comes back); the
investor may cancel it while it is pending. At or above approvals.money_threshold_usd an
admin's confirmation is a four-eyes request (workflows/approvals.py, `withdrawal.confirm`),
which a second admin approves (the money leaves then) or rejects (the money comes back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InsufficientFunds, InvalidInput, NotFound
from alefctl.ids import new_id, parse_id
from alefctl.money import format_usd, parse_amount, parse_currency
from alefctl.workflows import approvals, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.money import Entry, complete_pending, move_money, refund_pending
from alefctl.workflows.notifications import notify_role
from alefctl.workflows.proceeds import withdrawable_in
from alefctl.workflows.transitions import WITHDRAWAL_FLOW, transition
from alefctl.workflows.users import get_user

COLUMNS = ("w.id, w.user_id, u.email, w.amount, w.currency, w.reference, w.status, w.wallet_transaction_id,"
           " w.approval_request_id, w.decided_at, w.reason, w.created_at")


def request_withdrawal(conn: Connection, actor: Actor, amount: str | Decimal,
                       reference: str | None = None, currency: str | None = "USD") -> dict[str, Any]:
    """Hold the amount, in USD or USDC, and queue the request for an admin (the caller's own
    money)."""
    policy.require(actor, "withdrawal.request")
    value, code = parse_amount(amount), parse_currency(currency)
    user = get_user(conn, str(actor.user_id), for_update=True)
    allowed = withdrawable_in(conn, user.id, code)
    if value > allowed:
        raise InsufficientFunds(f"{format_usd(allowed)} {code} can be"
                                f" withdrawn now; cannot withdraw {format_usd(value)}")
    request_id = new_id()
    held = move_money(conn, user.id, code, -value, Entry(
        "withdrawal", reference=("withdrawal_request", request_id), description=reference,
        created_by=actor.user_id), status="pending")
    conn.execute(text(
        "INSERT INTO withdrawal_requests (id, user_id, amount, currency, reference,"
        " wallet_transaction_id) VALUES (:id, :u, :a, :c, :r, :wt)"),
        {"id": request_id, "u": user.id, "a": value, "c": code, "r": reference,
         "wt": held.transaction_id})
    actor.audit(conn, "withdrawal.request", "withdrawal_request", request_id,
                after={"amount": value, "currency": code, "reference": reference})
    notify_role(conn, "admin", "withdrawal.pending",
                f"withdrawal of {format_usd(value)} {code} by {user.email}", "withdrawal_request",
                request_id)
    return get_withdrawal(conn, str(request_id))


def cancel_own_withdrawal(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """The investor withdraws their pending request; the held money comes back."""
    policy.require(actor, "withdrawal.request")
    found = get_withdrawal(conn, ref)
    if found["user_id"] != actor.user_id:
        raise NotFound(f"withdrawal request not found: {ref}")
    return _release(conn, actor, found["id"], "cancel", "withdrawal cancelled", None)


def confirm_withdrawal(conn: Connection, actor: Actor, ref: str, *,
                       threshold: Decimal) -> dict[str, Any]:
    """Pay a pending request out (admins); at or above the threshold (USDC counted 1:1),
    ask a second admin."""
    policy.require(actor, "withdrawal.review")
    found = get_withdrawal(conn, ref)
    if found["amount"] < threshold:
        return complete_withdrawal(conn, actor, found["id"])
    transition(conn, "withdrawal_requests", found["id"], WITHDRAWAL_FLOW, "await_approval")
    request = approvals.request(conn, actor, "withdrawal.confirm", {
        "withdrawal_id": found["id"], "email": found["email"], "amount": found["amount"],
        "currency": found["currency"], "reference": found["reference"]})
    conn.execute(text("UPDATE withdrawal_requests SET approval_request_id = :r WHERE id = :id"),
                 {"r": request.id, "id": found["id"]})
    return get_withdrawal(conn, str(found["id"]))


def complete_withdrawal(conn: Connection, actor: Actor, withdrawal_id: uuid.UUID) -> dict[str, Any]:
    """The money leaves the platform: the held row completes (an admin confirming, or the
    second admin's approval running it)."""
    policy.require(actor, "withdrawal.review")
    row = transition(conn, "withdrawal_requests", withdrawal_id, WITHDRAWAL_FLOW, "complete",
                     returning="wallet_transaction_id", decided_by=actor.user_id,
                     decided_at=datetime.now(UTC))
    complete_pending(conn, [row.wallet_transaction_id])
    actor.audit(conn, "withdrawal.complete", "withdrawal_request", withdrawal_id,
                after={"status": "completed"})
    return get_withdrawal(conn, str(withdrawal_id))


def reject_withdrawal(conn: Connection, actor: Actor, ref: str, reason: str) -> dict[str, Any]:
    """Turn a request down with a reason (admins); the held money comes back."""
    policy.require(actor, "withdrawal.review")
    if not reason or not reason.strip():
        raise InvalidInput("a rejection needs a reason", field="reason")
    found = get_withdrawal(conn, ref)
    return _release(conn, actor, found["id"], "reject", f"withdrawal rejected: {reason}", reason)


def _release(conn: Connection, actor: Actor, withdrawal_id: uuid.UUID, action: str,
             note: str, reason: str | None) -> dict[str, Any]:
    decided = {"decided_by": actor.user_id, "decided_at": datetime.now(UTC)} if reason else {}
    row = transition(conn, "withdrawal_requests", withdrawal_id, WITHDRAWAL_FLOW, action,
                     returning="wallet_transaction_id", reason=reason, **decided)
    refund_pending(conn, row.wallet_transaction_id, note)
    actor.audit(conn, f"withdrawal.{action}", "withdrawal_request", withdrawal_id,
                after={"reason": reason})
    return get_withdrawal(conn, str(withdrawal_id))


def get_withdrawal(conn: Connection, ref: str) -> dict[str, Any]:
    """One withdrawal request, or NotFound."""
    row = conn.execute(text(
        f"SELECT {COLUMNS} FROM withdrawal_requests w JOIN users u ON u.id = w.user_id"
        " WHERE w.id = :id"), {"id": parse_id(ref, field="withdrawal")}).first()
    if row is None:
        raise NotFound(f"withdrawal request not found: {ref}")
    return dict(row._mapping)


def list_withdrawals(conn: Connection, actor: Actor, status: str | None = "pending",
                     limit: int = 500) -> list[dict[str, Any]]:
    """Withdrawal requests, oldest first (admins; the queue of pending ones by default)."""
    policy.require(actor, "withdrawal.review")
    rows = conn.execute(text(
        f"SELECT {COLUMNS} FROM withdrawal_requests w JOIN users u ON u.id = w.user_id"
        " WHERE (CAST(:s AS text) IS NULL OR w.status = :s) ORDER BY w.created_at, w.id"
        " LIMIT :limit"), {"s": status, "limit": limit})
    return [dict(row._mapping) for row in rows]
