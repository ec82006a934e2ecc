"""Redemption of a matured token: every holder paid a price per token, every token burned.

An admin requests it (`request_redemption`): the token must be matured (its market closed,
workflows/closing.py), the price per token is the face value or final NAV, and a second admin
approves it (four-eyes, approvals.OPERATIONS 'token.redeem'). The approval's transaction
(`execute_redemption`) checks the issuer's balance covers what is due (the issuer funds it by a
deposit beforehand; a refusal leaves the request failed, to approve again once funded), then for
each holder takes their tokens off the books, pays them from the issuer's balance and queues
the burn of their tokens as an agent operation (holders/jobs.py burns it on-chain, once), and
moves the token to 'redeemed'. The issuer's own tokens (team, reserve) are burned unpaid.

Money is conserved to the cent: each holder gets price * quantity rounded down to the cent;
the issuer pays exactly the sum of those; the remainder (what rounding kept back) is never
taken, it stays with the issuer, and is stated on the redemption and its result.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, text

from alefctl.db.locks import USERS_IN_LOCK_ORDER, lock_treasury
from alefctl.db.system_users import treasury_id
from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.ids import new_id
from alefctl.money import cents_down
from alefctl.workflows import approvals, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.custody import off_platform
from alefctl.workflows.holders.positions import lock_position, record_operation, take_unlocked
from alefctl.workflows.money import Entry, free_balance, move_money
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.transitions import TOKEN_FLOW, transition

REDEEM = "token.redeem"
PRICE_PLACES = Decimal("0.00000001")


def parse_price(raw: str | Decimal) -> Decimal:
    """A price per token above zero with at most eight decimal places."""
    try:
        price = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput(f"price per token must be a number (got {raw!r})",
                           field="price_per_token") from None
    if not price.is_finite() or price <= 0 or price != price.quantize(PRICE_PLACES):
        raise InvalidInput(f"price per token must be above 0 with at most 8 decimal places"
                           f" (got {raw})", field="price_per_token")
    return price


def request_redemption(conn: Connection, actor: Actor, token_ref: str,
                       price_per_token: str | Decimal) -> dict[str, Any]:
    """Ask a second admin to redeem a matured token's holders at a price per token."""
    policy.require(actor, REDEEM)
    price = parse_price(price_per_token)
    token = get_token(conn, token_ref, for_update=True)
    _check_matured(conn, token)
    if conn.execute(text("SELECT 1 FROM redemptions WHERE token_id = :t AND status <> 'rejected'"),
                    {"t": token.id}).first():
        raise Conflict(f"{token.symbol} already has a redemption; see `alefctl token redemption"
                       f" {token.symbol}`", code="redemption_exists")
    plan = _plan(conn, token, price)
    redemption_id = new_id()
    conn.execute(text(
        "INSERT INTO redemptions (id, token_id, price_per_token, currency, requested_by)"
        " VALUES (:id, :t, :p, :c, :by)"),
        {"id": redemption_id, "t": token.id, "p": price, "c": token.raise_currency,
         "by": actor.user_id})
    request = approvals.request(conn, actor, REDEEM, {
        "redemption_id": redemption_id, "token_id": token.id, "symbol": token.symbol,
        "price_per_token": price, "currency": token.raise_currency, **plan})
    conn.execute(text("UPDATE redemptions SET approval_id = :a WHERE id = :id"),
                 {"a": request.id, "id": redemption_id})
    actor.audit(conn, "token.redeem_request", "redemption", redemption_id,
                after={"symbol": token.symbol, "price_per_token": price, **plan})
    return get_redemption(conn, str(token.id))


def execute_redemption(conn: Connection, actor: Actor, request: approvals.ApprovalRequest
                       ) -> dict[str, Any]:
    """The approved redemption: holders paid, tokens off the books, burns queued, token
    redeemed, all in the approval's transaction."""
    params = request.params
    token = get_token(conn, str(params["token_id"]), for_update=True)
    _check_matured(conn, token)
    redemption_id = uuid.UUID(str(params["redemption_id"]))
    price = Decimal(str(params["price_per_token"]))
    treasury = treasury_id(conn)
    lock_treasury(conn, treasury)  # the gate of balance changes: many holders are credited
    holdings = _lock_holders(conn, token, treasury)
    due = {user_id: _due(token, user_id, price, quantity) for user_id, quantity in holdings}
    total = sum(due.values(), Decimal("0.00"))
    funds = free_balance(conn, token.issuer_id, token.raise_currency)
    if funds < total:
        raise Conflict(f"the issuer's {token.raise_currency} balance {funds} does not cover the"
                       f" redemption's {total}: deposit {total - funds} to the issuer, then"
                       " approve again", code="insufficient_funds")
    reference = ("redemption", redemption_id)
    for user_id, quantity in holdings:
        _redeem_holder(conn, actor, token, redemption_id, request.id, user_id, quantity,
                       due[user_id], price, reference)
    if total:
        move_money(conn, token.issuer_id, token.raise_currency, -total, Entry(
            "adjustment", token_id=token.id, reference=reference, created_by=actor.user_id,
            description=f"redemption of {token.symbol} at {price} per token"))
    quantity = sum(q for _u, q in holdings)
    remainder = price * quantity - total
    conn.execute(text(
        "UPDATE redemptions SET status = 'paid', holders = :h, quantity = :q, paid_total = :p,"
        " remainder = :r, paid_at = now(), updated_at = now() WHERE id = :id"
        " AND status = 'pending_approval'"),
        {"h": len(holdings), "q": quantity, "p": total, "r": remainder, "id": redemption_id})
    transition(conn, "tokens", token.id, TOKEN_FLOW, "redeem", returning="id")
    result = {"symbol": token.symbol, "price_per_token": price, "holders": len(holdings),
              "quantity": quantity, "paid_total": total, "remainder": remainder,
              "remainder_stays_with": "issuer"}
    actor.audit(conn, REDEEM, "redemption", redemption_id,
                before={"status": token.status}, after={"status": "redeemed", **result})
    return result


def reject_redemption(conn: Connection, actor: Actor, request: approvals.ApprovalRequest,
                      reason: str) -> None:
    """A rejected request: the redemption is rejected (another may be requested)."""
    conn.execute(text("UPDATE redemptions SET status = 'rejected', reason = :r, updated_at = now()"
                      " WHERE id = :id AND status = 'pending_approval'"),
                 {"r": reason, "id": request.params["redemption_id"]})


def get_redemption(conn: Connection, token_ref: str) -> dict[str, Any]:
    """A token's latest redemption with its payments, or NotFound."""
    token = get_token(conn, token_ref)
    row = conn.execute(text(
        "SELECT r.id, r.price_per_token, r.currency, r.status, r.approval_id, r.holders,"
        " r.quantity, r.paid_total, r.remainder, r.reason, r.created_at, r.paid_at"
        " FROM redemptions r WHERE r.token_id = :t ORDER BY r.created_at DESC LIMIT 1"),
        {"t": token.id}).first()
    if row is None:
        raise NotFound(f"{token.symbol} has no redemption")
    payments = conn.execute(text(
        "SELECT u.email, p.quantity, p.amount, o.chain_status AS burn_status"
        " FROM redemption_payments p JOIN users u ON u.id = p.user_id"
        " JOIN agent_operations o ON o.id = p.operation_id WHERE p.redemption_id = :r"
        " ORDER BY u.email"), {"r": row.id})
    return {"symbol": token.symbol, "token_status": token.status, **row._mapping,
            "payments": [dict(p._mapping) for p in payments]}


def _check_matured(conn: Connection, token: Token) -> None:
    if token.status != "matured":
        raise Conflict(f"{token.symbol} is {token.status}; only a matured token is redeemed"
                       " (`alefctl token mature` first)")
    outside = off_platform(conn, token.id)
    if outside:  # their holders would be neither paid nor burned: the books must hold them all
        raise Conflict(f"{outside} {token.symbol} tokens are off the platform in outside wallets;"
                       " their holders deposit them back (POST /api/v1/token-deposits) before the"
                       " redemption", code="tokens_off_platform")


def _due(token: Token, user_id: uuid.UUID, price: Decimal, quantity: int) -> Decimal:
    """What a holder is paid: rounded down to the cent; nothing to the issuer itself."""
    return Decimal("0.00") if user_id == token.issuer_id else cents_down(price * quantity)


def _plan(conn: Connection, token: Token, price: Decimal) -> dict[str, Any]:
    """What the redemption will pay, as of now (the approval pays the holders of its time)."""
    rows = conn.execute(text("SELECT user_id, balance FROM wallets WHERE token_id = :t"
                             " AND balance > 0"), {"t": token.id}).all()
    total = sum((_due(token, r.user_id, price, r.balance) for r in rows), Decimal("0.00"))
    quantity = sum(r.balance for r in rows)
    return {"holders": len(rows), "quantity": quantity, "total_due": total,
            "remainder": price * quantity - total}


def _lock_holders(conn: Connection, token: Token, treasury: uuid.UUID) -> list[tuple[uuid.UUID, int]]:
    """Every holder's (user, quantity), their users' rows locked in the lock order; the issuer
    too (debited). Tokens still locked in an order refuse the redemption (take_unlocked)."""
    holders = list(conn.execute(text("SELECT user_id FROM wallets WHERE token_id = :t AND"
                                     " balance > 0"), {"t": token.id}).scalars())
    conn.execute(text(
        f"SELECT 1 FROM users WHERE id = ANY(:ids) ORDER BY {USERS_IN_LOCK_ORDER.format(user='id')}"
        " FOR UPDATE"), {"ids": [*holders, token.issuer_id], "treasury": treasury})
    rows = conn.execute(text(
        "SELECT user_id, balance FROM wallets WHERE token_id = :t AND balance > 0"
        f" ORDER BY {USERS_IN_LOCK_ORDER.format(user='user_id')} FOR UPDATE"),
        {"t": token.id, "treasury": treasury}).all()
    return [(row.user_id, row.balance) for row in rows]


def _redeem_holder(conn: Connection, actor: Actor, token: Token, redemption_id: uuid.UUID,
                   approval_id: uuid.UUID, user_id: uuid.UUID, quantity: int, amount: Decimal,
                   price: Decimal, reference: tuple[str, uuid.UUID]) -> None:
    """One holder: tokens off the books, the burn queued, the payment credited and recorded."""
    take_unlocked(conn, lock_position(conn, user_id, token.id), quantity)
    wallet = conn.execute(text("SELECT wallet_address FROM users WHERE id = :u"),
                          {"u": user_id}).scalar()
    operation_id = record_operation(conn, actor, "burn", token, user_id,
                                    f"redemption of {token.symbol} at {price} per token",
                                    quantity=quantity, from_wallet=wallet, approval_id=approval_id)
    if amount:
        move_money(conn, user_id, token.raise_currency, amount, Entry(
            "adjustment", token_id=token.id, quantity=quantity, reference=reference,
            created_by=actor.user_id, description=f"redemption of {quantity} {token.symbol}"))
    conn.execute(text(
        "INSERT INTO redemption_payments (id, redemption_id, user_id, quantity, amount,"
        " operation_id) VALUES (:id, :r, :u, :q, :a, :o)"),
        {"id": new_id(), "r": redemption_id, "u": user_id, "q": quantity, "a": amount,
         "o": operation_id})
