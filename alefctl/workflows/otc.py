"""Fixed-price OTC trading (trading mode fixed_price_otc): orders wait for an admin.

An investor's order on an OTC token locks its money or tokens and waits as an otc_orders row.
An admin approves it: the platform treasury takes the other side at the token's otc_price, and
the fill is settled exactly like a book trade (two filled orders, one trade pending on-chain
settlement, fees, ledger rows) through the order group's ledger; or rejects it and the locked
funds come back. The investor may cancel a pending OTC order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.db.system_users import treasury_id
from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.ids import new_id, parse_id
from alefctl.money import format_usd
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.investment_limits import invested
from alefctl.workflows.lockup import check_lockup
from alefctl.workflows.money import return_free_fiat
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.tokens import TRADED_STATUSES, get_token
from alefctl.workflows.trading import funds
from alefctl.workflows.trading.ledger import GroupLedger
from alefctl.workflows.trading.state import MonotonicClock, OrderState
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

OTC_COLUMNS = ("o.id, o.user_id, u.email, t.symbol, o.token_id, o.client_order_id, o.side,"
               " o.quantity, o.price,"
               " o.total, o.locked_fiat, o.locked_quantity, o.status, o.rejection_reason,"
               " o.trade_id, o.created_at, o.reviewed_at")


def set_trading_mode(conn: Connection, actor: Actor, token_ref: str, mode: str,
                     otc_price: str | Decimal | None = None) -> dict[str, Any]:
    """Switch a live token between the order book and fixed-price OTC (admins only)."""
    policy.require(actor, "token.trading_mode")
    token = get_token(conn, token_ref, for_update=True)
    if token.status not in TRADED_STATUSES:
        raise Conflict(f"{token.symbol} is {token.status}; only a trading token changes mode")
    if mode not in ("full_orderbook", "fixed_price_otc"):
        raise InvalidInput("mode must be full_orderbook or fixed_price_otc", field="mode")
    open_orders = conn.execute(text(
        f"SELECT (SELECT count(*) FROM orders WHERE token_id = :t AND status IN {OPEN_STATUSES_SQL})"
        " + (SELECT count(*) FROM otc_orders WHERE"
        " token_id = :t AND status = 'pending')"), {"t": token.id}).scalar_one()
    if open_orders:
        raise Conflict(f"{token.symbol} has {open_orders} open orders: cancel them first")
    price = None
    if mode == "fixed_price_otc":
        from alefctl.money import parse_amount

        price = parse_amount(otc_price or "", field="otc_price")
    conn.execute(text("UPDATE tokens SET trading_mode = :m, otc_price = coalesce(:p, otc_price),"
                      " updated_at = now() WHERE id = :t"), {"m": mode, "p": price, "t": token.id})
    actor.audit(conn, "token.trading_mode", "token", token.id,
                before={"trading_mode": token.trading_mode}, after={"trading_mode": mode,
                                                                   "otc_price": price})
    return get_token(conn, str(token.id)).to_dict()


def place_otc_order(conn: Connection, actor: Actor, market: Any, request: OrderRequest,
                    limits: funds.NotionalLimits,
                    invested_so_far: Decimal | None = None,
                    free_fiat: Decimal | None = None) -> dict[str, Any]:
    """An investor's order on an OTC token: funds locked, waiting for an admin (a resent
    client_order_id: the original request, as for orders on the book). `invested_so_far` and
    `free_fiat`: the order group's running sum of the investment limit and free balance (they
    include the group's orders not written yet), else read from the database."""
    original = _original(conn, actor.user_id, request.client_order_id)
    if original is not None:
        return original
    price = conn.execute(text("SELECT otc_price FROM tokens WHERE id = :t"),
                         {"t": market.id}).scalar_one()
    if request.price is not None and Decimal(str(request.price)) != price:
        raise InvalidInput(f"{market.symbol} trades OTC at {format_usd(price)} USD only",
                           field="price")
    trader = funds.eligible_trader(conn, actor.user_id, treasury_id(conn))
    total = price * request.quantity
    if request.side == "buy":  # sells are never capped
        if invested_so_far is None:
            invested_so_far = invested(conn, actor.user_id, datetime.now().astimezone())
        funds.check_investment(trader, invested_so_far, total, limits)
    locked_fiat, locked_quantity = Decimal("0.00"), 0
    if request.side == "buy":
        if free_fiat is not None:  # money an earlier order of the group took, not yet written
            funds.refuse_fiat(total, free_fiat)
        funds.lock_fiat(conn, actor.user_id, total)
        locked_fiat = total
    else:
        if market.lockup_until is not None:  # team and reserve tokens locked up
            free = conn.execute(text("SELECT balance - locked_balance FROM wallets WHERE"
                                     " user_id = :u AND token_id = :t"),
                                {"u": actor.user_id, "t": market.id}).scalar() or 0
            check_lockup(conn, actor.user_id, market.id, market.symbol, market.lockup_until, free,
                         request.quantity, datetime.now().astimezone())
        funds.lock_tokens(conn, actor.user_id, market.id, request.quantity)
        locked_quantity = request.quantity
    otc_id = new_id()
    conn.execute(text(
        "INSERT INTO otc_orders (id, user_id, token_id, client_order_id, side, quantity, price,"
        " total, locked_fiat, locked_quantity)"
        " VALUES (:id, :u, :t, :cid, :side, :q, :p, :total, :lf, :lq)"),
        {"id": otc_id, "u": actor.user_id, "t": market.id, "cid": request.client_order_id,
         "side": request.side,
         "q": request.quantity, "p": price, "total": total, "lf": locked_fiat, "lq": locked_quantity})
    return get_otc_order(conn, str(otc_id)) | {"otc": True}


def _original(conn: Connection, user_id: uuid.UUID, client_order_id: str | None) -> dict[str, Any] | None:
    """The investor's OTC order with this client_order_id, newest first, if still pending or
    placed within the retry window."""
    from alefctl.workflows.trading.client_ids import CLIENT_ORDER_ID_WINDOW

    if client_order_id is None:
        return None
    found = conn.execute(text(
        "SELECT id FROM otc_orders WHERE user_id = :u AND client_order_id = :cid"
        " AND (status = 'pending' OR created_at > now() - CAST(:window AS interval))"
        " ORDER BY created_at DESC LIMIT 1"),
        {"u": user_id, "cid": client_order_id, "window": CLIENT_ORDER_ID_WINDOW}).scalar()
    if found is None:
        return None
    return get_otc_order(conn, str(found)) | {"otc": True, "duplicate": True}


def approve_otc_order(conn: Connection, actor: Actor, otc_ref: str) -> dict[str, Any]:
    """Execute a pending OTC order against the treasury at the OTC price (admins only)."""
    policy.require(actor, "otc.review")
    otc = _pending(conn, otc_ref)
    token = get_token(conn, str(otc["token_id"]), for_update=True)
    if token.status not in TRADED_STATUSES:  # matured, delisted: its OTC orders were closed
        raise Conflict(f"{token.symbol} is {token.status}; its OTC orders cannot execute")
    treasury = treasury_id(conn)
    clock = MonotonicClock()
    ledger = GroupLedger(treasury)
    investor = _order_state(otc, otc["user_id"], otc["side"], clock())
    counter = _order_state(otc, treasury, "sell" if otc["side"] == "buy" else "buy", clock())
    if counter.side == "sell":
        funds.lock_tokens(conn, treasury, token.id, otc["quantity"])
        counter.locked_quantity = otc["quantity"]
    else:
        funds.lock_fiat(conn, treasury, otc["total"])
        counter.locked_fiat = otc["total"]
    for order in (investor, counter):
        ledger.opened(order)
    trade = ledger.trade(investor, counter, otc["price"], otc["quantity"], token.fee_bps, None,
                         clock())
    for order in (investor, counter):
        ledger.status_change(order, "filled", "otc_approved")
        ledger.release(order)
    ledger.flush(conn, [investor, counter])
    conn.execute(text("UPDATE otc_orders SET status = 'executed', trade_id = :trade, reviewed_by ="
                      " :by, reviewed_at = now(), locked_fiat = 0, locked_quantity = 0,"
                      " updated_at = now() WHERE id = :id"),
                 {"trade": trade["id"], "by": actor.user_id, "id": otc["id"]})
    actor.audit(conn, "otc.approve", "otc_order", otc["id"], after={"trade_id": trade["id"]})
    return get_otc_order(conn, str(otc["id"]))


def reject_otc_order(conn: Connection, actor: Actor, otc_ref: str, reason: str | None,
                     *, cancel: bool = False) -> dict[str, Any]:
    """Reject (admin, with a reason) or cancel (its investor) a pending OTC order; funds return."""
    otc = _pending(conn, otc_ref)
    if cancel:
        if otc["user_id"] != actor.user_id:
            raise NotFound(f"OTC order not found: {otc_ref}")
    else:
        policy.require(actor, "otc.review")
        if not reason or not reason.strip():
            raise InvalidInput("a rejection needs a reason", field="reason")
    _release(conn, actor, otc, "cancelled" if cancel else "rejected", reason,
             f"otc.{'cancel' if cancel else 'reject'}")
    return get_otc_order(conn, str(otc["id"]))


def close_token_otc_orders(conn: Connection, actor: Actor, token_id: uuid.UUID,
                           reason: str) -> list[uuid.UUID]:
    """Cancel every pending OTC order of a token that stopped trading for good (matured,
    delisted; workflows/closing.py), each one's locked funds returned and audited."""
    pending = conn.execute(text("SELECT id FROM otc_orders WHERE token_id = :t AND status ="
                                " 'pending' ORDER BY created_at, id"), {"t": token_id}).scalars()
    closed = []
    for otc_id in list(pending):
        _release(conn, actor, _pending(conn, str(otc_id)), "cancelled", reason, "otc.close")
        closed.append(otc_id)
    return closed


def _release(conn: Connection, actor: Actor, otc: dict[str, Any], status: str,
             reason: str | None, action: str) -> None:
    """A pending OTC order ends unexecuted: its locked money or tokens return to its owner."""
    if otc["locked_fiat"]:
        return_free_fiat(conn, otc["user_id"], otc["locked_fiat"])
    if otc["locked_quantity"]:
        conn.execute(text("UPDATE wallets SET locked_balance = locked_balance - :q WHERE"
                          " user_id = :u AND token_id = :t"),
                     {"q": otc["locked_quantity"], "u": otc["user_id"], "t": otc["token_id"]})
    conn.execute(text("UPDATE otc_orders SET status = :s, rejection_reason = :r, reviewed_by = :by,"
                      " reviewed_at = now(), locked_fiat = 0, locked_quantity = 0,"
                      " updated_at = now() WHERE id = :id"),
                 {"s": status, "r": reason, "by": actor.user_id, "id": otc["id"]})
    actor.audit(conn, action, "otc_order", otc["id"], after={"reason": reason,
                                                              "status": status})


def list_otc_orders(conn: Connection, status: str | None = "pending") -> list[dict[str, Any]]:
    """OTC orders, oldest first (the admins' approval queue by default)."""
    rows = conn.execute(text(
        f"SELECT {OTC_COLUMNS} FROM otc_orders o JOIN users u ON u.id = o.user_id JOIN tokens t"
        " ON t.id = o.token_id WHERE (CAST(:s AS text) IS NULL OR o.status = :s)"
        " ORDER BY o.created_at, o.id"), {"s": status})
    return [dict(row._mapping) for row in rows]


def get_otc_order(conn: Connection, otc_ref: str, *, for_update: bool = False) -> dict[str, Any]:
    """One OTC order, or NotFound."""
    lock = " FOR UPDATE OF o" if for_update else ""
    row = conn.execute(text(
        f"SELECT {OTC_COLUMNS} FROM otc_orders o JOIN users u ON u.id = o.user_id JOIN tokens t"
        f" ON t.id = o.token_id WHERE o.id = :id{lock}"),
        {"id": parse_id(otc_ref, field="otc_order")}).first()
    if row is None:
        raise NotFound(f"OTC order not found: {otc_ref}")
    return dict(row._mapping)


def _pending(conn: Connection, otc_ref: str) -> dict[str, Any]:
    otc = get_otc_order(conn, otc_ref, for_update=True)
    if otc["status"] != "pending":
        raise Conflict(f"OTC order is already {otc['status']}")
    return otc


def _order_state(otc: dict[str, Any], user_id: uuid.UUID, side: str, at: datetime) -> OrderState:
    state = OrderState(id=new_id(), user_id=user_id, token_id=otc["token_id"], side=side,
                       order_type="limit", quantity=otc["quantity"], price=otc["price"],
                       stop_price=None, time_in_force="GTC", stp_mode="none",
                       client_order_id=None, created_at=at, status="open", is_new=True)
    if user_id == otc["user_id"]:  # the investor's locked funds move into the order
        state.locked_fiat, state.locked_quantity = otc["locked_fiat"], otc["locked_quantity"]
    return state
