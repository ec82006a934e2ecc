"""The primary offering: subscribe, confirm payment, reject an allocation.

Money path (in the token's raise currency, USD or USDC): a subscription moves the investor's
money into the token's escrow (pending allocation, pending wallet transaction). Confirmation
keeps it in escrow and books the sale; rejection refunds it in full and cancels the pending
wallet transaction. At go-live (lifecycle.enable_secondary) escrow is paid out to the issuer,
less the success fee to the treasury. Lock order: token row, then user rows.

Ledger rule (kept by every flow): a user's fiat_balance plus the fiat locked in their open
orders equals the sum of their USD wallet_transactions that are not cancelled (USDC: their
user_balances row and USDC wallet_transactions). Cancelling an offering: offering_admin.py.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InsufficientFunds, InvalidInput, PermissionDenied
from alefctl.ids import new_id, parse_id
from alefctl.money import format_usd
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.compliance import check_acquisition
from alefctl.workflows.investment_limits import invested
from alefctl.workflows.money import (
    Entry,
    complete_pending,
    credit_tokens,
    free_balance,
    move_money,
    refund_pending,
)
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.trading.funds import NotionalLimits, check_investment
from alefctl.workflows.validation import whole_number

ALLOCATION_COLUMNS = (
    "a.id, a.token_id, t.symbol, a.user_id, u.email, a.quantity, a.price_per_token, a.amount,"
    " a.allocation_type, a.status, a.on_chain_status, a.on_chain_tx_hash, a.on_chain_error,"
    " a.created_at, a.confirmed_at"
)


@dataclass(frozen=True)
class Allocation:
    """Tokens allocated to a user, with payment and minting state."""

    id: uuid.UUID
    token_id: uuid.UUID
    symbol: str
    user_id: uuid.UUID
    email: str
    quantity: int
    price_per_token: Decimal
    amount: Decimal
    allocation_type: str
    status: str
    on_chain_status: str
    on_chain_tx_hash: str | None
    on_chain_error: str | None
    created_at: datetime
    confirmed_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def subscribe(conn: Connection, actor: Actor, token_ref: str, quantity: int | str,
              now: datetime | None = None, limits: NotionalLimits | None = None) -> Allocation:
    """An investor subscribes: money (the token's raise currency) into escrow, a pending
    allocation; never oversells, never passes the per-investor bounds nor the investor's
    12-month investment limit (`limits`: every front end passes settings.trading's; None only
    for callers that set up a platform, such as test builders)."""
    policy.require(actor, "token.subscribe")
    qty = whole_number(quantity, field="quantity", minimum=1)
    at = now or datetime.now().astimezone()
    # Every check before any write, token row first (lock order: token, then user).
    token = get_token(conn, token_ref, for_update=True)
    _check_offering_open(token, at)
    check_investor_bounds(token, subscribed_quantity(conn, token.id, actor.user_id), qty)
    left = token.primary_cap - token.tokens_sold - token.tokens_reserved
    if qty > left:
        raise Conflict(f"only {left} {token.symbol} tokens are left in the offering")
    amount = token.price_per_token * qty
    investor = _eligible_investor(conn, actor.user_id)
    check_acquisition(conn, token.id, actor.user_id, qty)
    if limits is not None:
        check_investment(investor, invested(conn, actor.user_id, at), amount, limits)
    currency = token.raise_currency
    available = free_balance(conn, actor.user_id, currency)
    if available < amount:
        raise InsufficientFunds(f"subscribing costs {format_usd(amount)} {currency}; available"
                                f" {format_usd(available)}")
    conn.execute(text("UPDATE tokens SET tokens_reserved = tokens_reserved + :q, escrow_balance ="
                      " escrow_balance + :amount, updated_at = now() WHERE id = :t"),
                 {"q": qty, "amount": amount, "t": token.id})
    allocation_id = new_id()
    payment = move_money(conn, actor.user_id, currency, -amount, Entry(
        "token_buy", token_id=token.id, quantity=qty, reference=("token_allocation", allocation_id),
        created_by=actor.user_id), status="pending")
    conn.execute(text(
        "INSERT INTO token_allocations (id, token_id, user_id, quantity, price_per_token, amount,"
        " allocation_type, status, wallet_transaction_id) VALUES (:id, :t, :u, :q, :p, :a,"
        " 'primary', 'pending_payment', :wt)"),
        {"id": allocation_id, "t": token.id, "u": actor.user_id, "q": qty,
         "p": token.price_per_token, "a": amount, "wt": payment.transaction_id})
    actor.audit(conn, "offering.subscribe", "token_allocation", allocation_id,
                after={"token": token.symbol, "quantity": qty, "amount": amount,
                       "currency": currency})
    return get_allocation(conn, str(allocation_id))


def subscribed_quantity(conn: Connection, token_id: uuid.UUID, user_id: uuid.UUID) -> int:
    """Tokens the investor subscribed in this offering, pending or confirmed."""
    return conn.execute(text(
        "SELECT coalesce(sum(quantity), 0) FROM token_allocations WHERE token_id = :t"
        " AND user_id = :u AND allocation_type = 'primary' AND status IN ('pending_payment',"
        " 'confirmed')"), {"t": token_id, "u": user_id}).scalar_one()


def check_investor_bounds(token: Token, already: int, quantity: int) -> None:
    """min_investment and max_investment bound the sum of one investor's subscriptions."""
    if already + quantity < token.min_investment:
        raise InvalidInput(f"an investor subscribes at least the minimum investment of"
                           f" {token.min_investment} tokens in all (you have {already})",
                           field="quantity")
    if token.max_investment is not None and already + quantity > token.max_investment:
        raise Conflict(f"an investor subscribes at most {token.max_investment} {token.symbol}"
                       f" tokens in all; you may add {max(token.max_investment - already, 0)}",
                       code="max_investment")


def confirm_payments(conn: Connection, actor: Actor, token_ref: str,
                     allocation_refs: list[str] | None = None) -> list[Allocation]:
    """Confirm pending allocations (all of a token, or the chosen ones); queues their mints."""
    policy.require(actor, "offering.confirm_payment")
    token = get_token(conn, token_ref, for_update=True)
    chosen = [parse_id(ref, field="allocation") for ref in allocation_refs or []]
    confirmed = conn.execute(text(
        "UPDATE token_allocations SET status = 'confirmed', confirmed_by = :by,"
        " confirmed_at = now(), updated_at = now() WHERE token_id = :t AND status ="
        " 'pending_payment' AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(:ids))"
        " RETURNING id, user_id, quantity, amount, wallet_transaction_id"),
        {"by": actor.user_id, "t": token.id, "ids": chosen or None}).all()
    if chosen and len(confirmed) != len(chosen):
        raise Conflict("some chosen allocations are not pending payment for this token")
    if not confirmed:
        return []
    quantity = sum(row.quantity for row in confirmed)
    amount = sum((row.amount for row in confirmed), Decimal(0))
    conn.execute(text(
        "UPDATE tokens SET tokens_reserved = tokens_reserved - :q, tokens_sold = tokens_sold + :q,"
        " total_raised = total_raised + :a, updated_at = now() WHERE id = :t"),
        {"q": quantity, "a": amount, "t": token.id})
    for row in sorted(confirmed, key=lambda r: r.user_id):
        credit_tokens(conn, row.user_id, token.id, row.quantity)
    complete_pending(conn, [row.wallet_transaction_id for row in confirmed])
    actor.audit(conn, "offering.confirm_payment", "token", token.id,
                after={"allocations": [row.id for row in confirmed], "quantity": quantity,
                       "amount": amount})
    return [get_allocation(conn, str(row.id)) for row in confirmed]


def reject_allocation(conn: Connection, actor: Actor, allocation_ref: str, reason: str) -> Allocation:
    """Reject a pending allocation and refund the investor in full (admins only)."""
    policy.require(actor, "allocation.reject")
    if not reason or not reason.strip():
        raise InvalidInput("a rejection needs a reason", field="reason")
    current = get_allocation(conn, allocation_ref)
    get_token(conn, str(current.token_id), for_update=True)
    row = conn.execute(text(
        "UPDATE token_allocations SET status = 'rejected', rejection_reason = :r, updated_at = now()"
        " WHERE id = :id AND status = 'pending_payment' RETURNING wallet_transaction_id"),
        {"r": reason.strip(), "id": current.id}).first()
    if row is None:
        raise Conflict(f"allocation is {current.status}; only a pending allocation can be rejected")
    conn.execute(text("UPDATE tokens SET tokens_reserved = tokens_reserved - :q, escrow_balance ="
                      " escrow_balance - :a, updated_at = now() WHERE id = :t"),
                 {"q": current.quantity, "a": current.amount, "t": current.token_id})
    # The pending payment never completed: cancelling it is the refund, so each user's
    # non-cancelled ledger rows keep adding up to their balance.
    refund_pending(conn, row.wallet_transaction_id, "allocation rejected: refunded")
    actor.audit(conn, "offering.reject_allocation", "token_allocation", current.id,
                before={"status": current.status}, after={"status": "rejected", "reason": reason})
    return get_allocation(conn, str(current.id))


def get_allocation(conn: Connection, ref: str) -> Allocation:
    """An allocation by id, or NotFound."""
    from alefctl.errors import NotFound

    row = conn.execute(text(f"SELECT {ALLOCATION_COLUMNS} FROM token_allocations a JOIN tokens t"
                            " ON t.id = a.token_id JOIN users u ON u.id = a.user_id WHERE a.id = :id"),
                       {"id": parse_id(ref, field="allocation")}).first()
    if row is None:
        raise NotFound(f"allocation not found: {ref}")
    return Allocation(**row._mapping)


def list_allocations(conn: Connection, token_ref: str | None = None, status: str | None = None,
                     on_chain_status: str | None = None) -> list[Allocation]:
    """Allocations in creation order, filtered by token, payment status or on-chain status."""
    token_id = get_token(conn, token_ref).id if token_ref else None
    rows = conn.execute(text(
        f"SELECT {ALLOCATION_COLUMNS} FROM token_allocations a JOIN tokens t ON t.id = a.token_id"
        " JOIN users u ON u.id = a.user_id WHERE (CAST(:t AS uuid) IS NULL OR a.token_id = :t)"
        " AND (CAST(:s AS text) IS NULL OR a.status = :s)"
        " AND (CAST(:o AS text) IS NULL OR a.on_chain_status = :o) ORDER BY a.created_at, a.id"),
        {"t": token_id, "s": status, "o": on_chain_status})
    return [Allocation(**row._mapping) for row in rows]


def _check_offering_open(token: Token, now: datetime) -> None:
    if token.status != "primary" or token.trading_mode != "primary_subscription":
        raise Conflict(f"{token.symbol} is not in its primary offering (status {token.status})")
    if token.primary_start and now < token.primary_start:
        raise Conflict(f"the {token.symbol} offering opens at {token.primary_start.isoformat()}")
    if token.primary_end and now > token.primary_end:
        raise Conflict(f"the {token.symbol} offering closed at {token.primary_end.isoformat()}")


def _eligible_investor(conn: Connection, user_id: uuid.UUID) -> Any:
    investor = conn.execute(text(
        "SELECT kyc_status, fatca_status, is_activated, wallet_address, fiat_balance,"
        " accreditation_status FROM users"
        " WHERE id = :u FOR UPDATE"), {"u": user_id}).one()
    if investor.kyc_status != "approved":
        raise PermissionDenied(f"KYC must be approved to invest (status {investor.kyc_status})")
    if investor.fatca_status == "blocked":
        raise PermissionDenied("investing is blocked for this investor under FATCA")
    if not investor.is_activated:
        raise PermissionDenied("the investor account is deactivated")
    if investor.wallet_address is None:
        raise Conflict("register a wallet address first (PUT /api/v1/me/wallet)",
                       field="wallet_address")
    return investor
