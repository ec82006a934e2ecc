"""Placing a new order in its group: every check that can refuse it runs before it changes
anything; then the money or tokens it may use are locked and it enters its book."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from alefctl.errors import InvalidInput, TooManyOpenOrders
from alefctl.ids import new_id
from alefctl.workflows.compliance import check_acquisition, get_rules
from alefctl.workflows.lockup import check_lockup
from alefctl.workflows.orders import check_order_shape, to_ticks
from alefctl.workflows.trading import funds
from alefctl.workflows.trading.commands import PlaceOrder
from alefctl.workflows.trading.lifetime import expire_at
from alefctl.workflows.trading.state import OrderState
from alefctl.workflows.trading.stop_gate import stop_gate
from alefctl.workflows.trading.vocabulary import STOP_TYPES
from engine.events import named

if TYPE_CHECKING:
    from alefctl.workflows.trading.group import OrderGroup
    from alefctl.workflows.trading.market import Market


def place_order(group: OrderGroup, command: PlaceOrder) -> dict[str, Any]:
    """Run a new order in the group; refusals change nothing."""
    request, actor = command.request, command.actor
    check_order_shape(request)
    original = group.original(actor.user_id, request.client_order_id)
    if original is not None:  # a retry: never a second order
        return original
    market = group.market(request.token, otc_allowed=True)
    group.guards.refuse_halted(market, group.clock())
    entrant = False
    if request.side == "buy":
        if market.id not in group.compliance_rules:  # once per token and group
            group.compliance_rules[market.id] = get_rules(group.conn, market.id)
        entrant = check_acquisition(group.conn, market.id, actor.user_id, request.quantity,
                                    group.compliance_rules[market.id], group.holdings)
    if market.trading_mode == "fixed_price_otc":
        from alefctl.workflows.otc import place_otc_order

        # the running sums, loaded before the OTC buy is written (a sell: never capped)
        invested = free_fiat = None
        if request.side == "buy":
            group.trader(actor.user_id)
            invested, free_fiat = group.invested_so_far(actor.user_id), group.free_fiat(actor.user_id)
        try:
            placed = place_otc_order(group.conn, actor, market, request, group.limits, invested,
                                     free_fiat)
        finally:  # it changed the balances in the database: read them again when needed
            group.traders.pop(actor.user_id, None)
            group.free_tokens.pop((actor.user_id, market.id), None)
        if placed["side"] == "buy" and not placed.get("duplicate"):
            group.invested_changes[actor.user_id] += placed["total"]  # the running sum
        return placed
    price = to_ticks(request.price, market.tick_size)
    stop = to_ticks(request.stop_price, market.tick_size, field="stop_price")
    book = group.books.book(group.conn, market.id)
    now = group.clock().timestamp()
    nav = None if market.nav_per_token is None else int(market.nav_per_token / market.tick_size)
    group.guards.check(market, book, price, nav, now, request.confirm_fat_finger,
                       request.confirm_nav_deviation)
    trader = group.trader(actor.user_id)
    funds.check_trader(trader)
    _check_open_orders(group, actor.user_id, market)
    order = OrderState(
        id=new_id(), user_id=actor.user_id, token_id=market.id, side=request.side,
        order_type=request.order_type, quantity=request.quantity, price=request.price,
        stop_price=request.stop_price, time_in_force=request.time_in_force,
        stp_mode=request.self_trade_prevention, client_order_id=request.client_order_id,
        created_at=group.clock(), is_new=True,
        status="pending_stop" if request.order_type in STOP_TYPES else "open",
        expire_at=expire_at(request.time_in_force, request.expire_at, market.session_end,
                            group.limits.lifetime, group.clock()))
    cap = _lock_funds(group, order, trader, market)
    last_before = book.last_price
    book.stop_gate = stop_gate(group.conn, group.traders, group.guards, market.id, book, nav, now)
    try:
        raw = book.submit(order.id, order.user_id, order.side, order.order_type,
                          order.quantity, price, stop, order.time_in_force, order.stp_mode, cap)
    finally:
        book.stop_gate = None  # the gate holds this group's connection
    events = [named(event) for event in raw]
    if events and events[0].kind == "rejected":
        _unlock(group, order)
        raise InvalidInput(f"the matching engine refused the order: {events[0].reason}")
    group.orders[order.id] = order
    group.open_changes[(order.user_id, market.id)] += 1
    if order.client_order_id is not None:
        group.client_ids.placed[(order.user_id, order.client_order_id)] = order
    group.ledger.opened(order)
    if order.side == "buy":
        group.holdings.bid(order.user_id, market.id, order.quantity, entrant)
    group.apply(market, events)
    group.observe(market, book, raw, last_before, now)
    return order.public(market.symbol)


def _check_open_orders(group: OrderGroup, user_id: uuid.UUID, market: Market) -> None:
    """Refuse a new order to an investor with the most open orders allowed on the token: the
    committed count kept with the books, and this group's changes so far."""
    key = (user_id, market.id)
    limit = group.limits.max_open_orders
    if group.books.open_count(user_id, market.id) + group.open_changes[key] >= limit:
        raise TooManyOpenOrders(f"you have {limit} open orders on {market.symbol}, the most"
                                " allowed: cancel one first")


def _lock_funds(group: OrderGroup, order: OrderState, trader: Any, market: Market) -> int | None:
    """Lock what the order may use (written with the group: the rows are locked since it
    began); returns the engine's notional cap for market buys."""
    if order.side == "sell":  # sells are never capped
        free = group.free_quantity(order.user_id, market.id)
        if (order.user_id, market.id) in group.frozen_wallets:
            funds.refuse_frozen(market.symbol)
        funds.refuse_tokens(order.quantity, free)
        check_lockup(group.conn, order.user_id, market.id, market.symbol, market.lockup_until,
                     free, order.quantity, group.clock())
        group.ledger.move_tokens(order.user_id, market.id, 0, order.quantity)
        order.locked_quantity = order.quantity
        return None
    if order.price is not None:  # limit and stop_limit buys lock price x quantity
        amount = order.price * order.quantity
        funds.check_investment(trader, group.invested_so_far(order.user_id), amount, group.limits)
        cap = None
    else:  # market and stop_loss buys lock a bounded budget
        amount = funds.market_budget(trader, group.free_fiat(order.user_id),
                                     group.invested_so_far(order.user_id), group.limits)
        cap = int(amount / market.tick_size)
    funds.refuse_fiat(amount, group.free_fiat(order.user_id))
    group.ledger.credit_fiat(order.user_id, -amount)
    group.invested_changes[order.user_id] += amount
    order.locked_fiat = amount
    return cap


def _unlock(group: OrderGroup, order: OrderState) -> None:
    """Give back what _lock_funds took, for an order that never entered the book."""
    if order.side == "buy":
        group.ledger.credit_fiat(order.user_id, order.locked_fiat)
        group.invested_changes[order.user_id] -= order.locked_fiat
    else:
        group.ledger.move_tokens(order.user_id, order.token_id, 0, -order.locked_quantity)
