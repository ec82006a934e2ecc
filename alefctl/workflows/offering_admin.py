"""Offering administration: cancel an offering (every subscription refunded in one step), move
its window, and fail the offerings that ended below their soft cap.

A cancelled or failed offering ends `cancelled`: pending subscriptions are refunded by
cancelling their pending payment, confirmed ones by a `refund` credit in the raise currency and
their tokens taken back from the investor's wallet; their mints never run (the queue takes
confirmed allocations only) and tokens already minted are burned by the burn job
(onchain/burning.py). Each investor is notified. Lock order: token row, then users by id.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.errors import AlefError, Conflict, InvalidInput
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.money import Entry, debit_tokens, move_money, refund_pending
from alefctl.workflows.notifications import notify_user
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.transitions import TOKEN_FLOW, transition

SOFT_CAP_REASON = "soft cap not reached"


def cancel_offering(conn: Connection, actor: Actor, token_ref: str, reason: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """Cancel a primary offering: every subscription refunded, the token `cancelled` (admins)."""
    policy.require(actor, "offering.cancel")
    return _cancel(conn, actor, token_ref, reason, now)


def _cancel(conn: Connection, actor: Actor, token_ref: str, reason: str,
            now: datetime | None) -> dict[str, Any]:
    if not reason or not reason.strip():
        raise InvalidInput("a cancellation needs a reason", field="reason")
    token = get_token(conn, token_ref, for_update=True)
    if token.status == "cancelled":
        return {"token": token.to_dict(), "refunds": [], "already_cancelled": True}
    if token.status != "primary":
        raise Conflict(f"{token.symbol} is {token.status}; only an offering in progress can be"
                       " cancelled")
    refunds = _refund_all(conn, actor, token)
    transition(conn, "tokens", token.id, TOKEN_FLOW, "cancel", returning="id",
               cancelled_at=now or datetime.now().astimezone(), cancel_reason=reason.strip())
    for user_id in sorted({r["user_id"] for r in refunds}):
        notify_user(conn, user_id, "offering_cancelled",
                    f"The {token.symbol} offering was cancelled ({reason.strip()}); your"
                    " subscription was refunded", "token", token.id)
    total = sum((r["amount"] for r in refunds), Decimal("0.00"))
    actor.audit(conn, "offering.cancel", "token", token.id, before={"status": token.status},
                after={"status": "cancelled", "reason": reason.strip(), "refunds": len(refunds),
                       "refunded": total, "currency": token.raise_currency})
    return {"token": get_token(conn, str(token.id)).to_dict(), "refunds": refunds,
            "refunded": total, "already_cancelled": False}


def set_offering_window(conn: Connection, actor: Actor, token_ref: str, ends_at: datetime,
                        now: datetime | None = None) -> Token:
    """Extend or shorten an offering in progress: a new end, after its start and in the future."""
    policy.require(actor, "offering.window")
    token = get_token(conn, token_ref, for_update=True)
    if token.status != "primary":
        raise Conflict(f"{token.symbol} is {token.status}; only an offering in progress has a window")
    if ends_at <= (now or datetime.now().astimezone()):
        raise InvalidInput("the offering's new end must be in the future", field="ends_at")
    if token.primary_start is not None and ends_at <= token.primary_start:
        raise InvalidInput("the offering must end after it starts", field="ends_at")
    conn.execute(text("UPDATE tokens SET primary_end = :end, updated_at = now() WHERE id = :t"),
                 {"end": ends_at, "t": token.id})
    actor.audit(conn, "offering.window", "token", token.id, before={"ends_at": token.primary_end},
                after={"ends_at": ends_at})
    return get_token(conn, str(token.id))


def fail_due_offerings(db: Engine, actor: Actor, now: datetime | None = None
                       ) -> tuple[list[dict[str, Any]], list[str]]:
    """Cancel every offering that ended below its soft cap, refunding everyone (cron and the
    server's background work; safe to run twice at once), one transaction per token: a token
    that cannot be failed is named in the problems and does not hold up the others.
    Returns (the cancellations, the problems)."""
    policy.require(actor, "offering.fail_due")
    at = now or datetime.now().astimezone()
    with db.connect() as conn:
        due = list(conn.execute(text(f"SELECT id, symbol FROM tokens WHERE {_DUE}"
                                     " ORDER BY primary_end, id"), {"now": at}))
    cancelled: list[dict[str, Any]] = []
    problems: list[str] = []
    for token_id, symbol in due:
        try:
            with db.begin() as conn:
                if not locks.try_lock_xact(conn, locks.FAIL_DUE_XACT):
                    break  # another runner is failing them
                still_due = conn.execute(text(f"SELECT 1 FROM tokens WHERE id = :t AND {_DUE}"),
                                         {"t": token_id, "now": at}).first()
                if still_due is not None:
                    cancelled.append(_cancel(conn, actor, str(token_id), SOFT_CAP_REASON, at))
        except AlefError as error:
            problems.append(f"offering {symbol} could not be failed: {error}")
    return cancelled, problems


# An offering due to fail: ended below its soft cap.
_DUE = ("status = 'primary' AND soft_cap IS NOT NULL AND primary_end <= :now"
        " AND escrow_balance < soft_cap")


def _refund_all(conn: Connection, actor: Actor, token: Token) -> list[dict[str, Any]]:
    """Refund every pending and confirmed subscription of the token; returns one row each."""
    rows = conn.execute(text(
        "WITH standing AS (SELECT id, status FROM token_allocations WHERE token_id = :t"
        " AND allocation_type = 'primary' AND status IN ('pending_payment', 'confirmed')"
        " FOR UPDATE) UPDATE token_allocations a SET status = 'refunded', updated_at = now()"
        " FROM standing WHERE a.id = standing.id RETURNING a.id, a.user_id, a.quantity,"
        " a.amount, a.wallet_transaction_id, standing.status AS was"), {"t": token.id}).all()
    refunds = []
    for row in sorted(rows, key=lambda r: (r.user_id, r.id)):
        if row.was == "pending_payment":  # the payment never completed: cancelling it refunds
            refund_pending(conn, row.wallet_transaction_id, "offering cancelled: refunded")
        else:
            debit_tokens(conn, row.user_id, token.id, row.quantity)
            move_money(conn, row.user_id, token.raise_currency, row.amount, Entry(
                "refund", token_id=token.id, quantity=row.quantity,
                reference=("token_allocation", row.id), created_by=actor.user_id,
                description="offering cancelled: refunded"))
        refunds.append({"allocation_id": row.id, "user_id": row.user_id, "quantity": row.quantity,
                        "amount": row.amount, "was": row.was})
    conn.execute(text("UPDATE tokens SET tokens_reserved = 0, tokens_sold = 0, total_raised = 0,"
                      " escrow_balance = escrow_balance - :a, updated_at = now() WHERE id = :t"),
                 {"a": sum((r["amount"] for r in refunds), Decimal(0)), "t": token.id})
    return refunds
