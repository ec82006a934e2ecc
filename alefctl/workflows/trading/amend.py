"""Amending an open order in its group (PATCH /api/v1/orders/{id}, `alefctl order amend`).

Only a resting limit order (or a triggered stop-limit) may be amended, by its owner. Its
quantity (the total, filled part included) may only go down, staying above what has filled: it
keeps its time priority (OrderBook.reduce). A new price makes it lose its priority: it leaves
the book and enters again at the new price, where it may trade at once (cancel and replace in
one command, one transaction, the same order id). The money or tokens it holds follow: a buy
holds price x remaining, a sell its remaining tokens; what is freed comes back at once, and a
higher price needs the difference free.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.workflows.orders import to_ticks
from alefctl.workflows.trading import funds
from alefctl.workflows.trading.commands import AmendOrder, parse_order_id
from alefctl.workflows.trading.state import OrderState
from alefctl.workflows.trading.stop_gate import stop_gate
from engine.constants import CancelReason
from engine.events import named

if TYPE_CHECKING:
    from alefctl.workflows.trading.group import OrderGroup
    from alefctl.workflows.trading.market import Market


def amend_order(group: OrderGroup, command: AmendOrder) -> dict[str, Any]:
    """Run an amend in the group; refusals change nothing."""
    order = _amendable(group, command)
    market = group.market(str(order.token_id))
    quantity = order.quantity if command.quantity is None else command.quantity
    price = order.price if command.price is None else command.price
    _check_quantity(order, quantity)
    if quantity == order.quantity and price == order.price:
        return order.public(market.symbol)  # nothing to change
    ticks = to_ticks(price, market.tick_size)
    book = group.books.book(group.conn, market.id)
    now = group.clock().timestamp()
    nav = None if market.nav_per_token is None else int(market.nav_per_token / market.tick_size)
    if price != order.price:  # a new price may trade: refused while halted, like a new order
        group.guards.refuse_halted(market, group.clock())
        group.guards.check(market, book, ticks, nav, now, command.confirm_fat_finger,
                           command.confirm_nav_deviation)
    trader = group.trader(order.user_id)
    funds.check_trader(trader)
    assert price is not None
    _relock(group, order, trader, quantity, price)
    reprice = price != order.price
    order.quantity, order.price = quantity, price
    group.ledger.amended(order)
    if not reprice:
        reduced = _book_change(book.reduce(order.id, order.remaining))
        group.events.extend((market, named(event)) for event in reduced)  # for market data
        return order.public(market.symbol)
    return _replace(group, market, book, order, ticks, nav, now)


def _amendable(group: OrderGroup, command: AmendOrder) -> OrderState:
    """The caller's own order, resting in its book."""
    order_id = parse_order_id(command.order_id)
    order = None if order_id is None else group.order(order_id)
    if order is None or order.user_id != command.actor.user_id:
        raise NotFound(f"order not found: {command.order_id}")
    if order.is_finished:
        raise Conflict(f"order is already {order.status}")
    if order.status == "pending_stop" or order.price is None:
        raise Conflict(f"a {order.status} {order.order_type} order cannot be amended:"
                       " cancel it and place a new one")
    if command.quantity is None and command.price is None:
        raise InvalidInput("give a new quantity or a new price", field="quantity")
    return order


def _check_quantity(order: OrderState, quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity > order.quantity:
        raise InvalidInput(f"quantity may only go down (it is {order.quantity}): place a new"
                           " order for more", field="quantity")
    if quantity <= order.filled_quantity:
        raise InvalidInput(f"quantity must stay above the {order.filled_quantity} already"
                           " filled: cancel the order instead", field="quantity")


def _relock(group: OrderGroup, order: OrderState, trader: Any, quantity: int,
            price: Decimal) -> None:
    """Hold what the amended order may use: a buy price x remaining (the difference taken from
    or given back to the free balance), a sell its remaining tokens. A buy's extra money counts
    against the investor's 12-month investment limit; sells are never capped."""
    remaining = quantity - order.filled_quantity
    if order.side == "buy":  # a smaller buy counts less towards the compliance limits
        group.holdings.gone(order.user_id, order.token_id,
                            order.quantity - order.filled_quantity - remaining)
        needed = price * remaining
        extra = needed - order.locked_fiat
        if extra > 0:
            funds.check_investment(trader, group.invested_so_far(order.user_id), extra, group.limits)
            funds.refuse_fiat(extra, group.free_fiat(order.user_id))
        group.ledger.credit_fiat(order.user_id, -extra)
        group.invested_changes[order.user_id] += extra
        order.locked_fiat = needed
    else:
        group.ledger.move_tokens(order.user_id, order.token_id, 0,
                                 remaining - order.locked_quantity)
        order.locked_quantity = remaining


def _replace(group: OrderGroup, market: Market, book: Any, order: OrderState, ticks: int | None,
             nav: int | None, now: float) -> dict[str, Any]:
    """Take the order out of its book and enter it again at its new price (it may trade)."""
    cancelled = _book_change(book.cancel(order.id, CancelReason.AMENDED))
    group.events.append((market, named(cancelled[0])))  # the book changed: market data
    last_before = book.last_price
    book.stop_gate = stop_gate(group.conn, group.traders, group.guards, market.id, book, nav, now)
    try:
        raw = _book_change(book.submit(order.id, order.user_id, order.side, "limit",
                                       order.remaining, ticks, None, order.time_in_force,
                                       order.stp_mode, None))
    finally:
        book.stop_gate = None
    group.apply(market, [named(event) for event in raw])
    group.observe(market, book, raw, last_before, now)
    return order.public(market.symbol)


def _book_change(events: list[tuple]) -> list[tuple]:
    """The events of a change to the book that was checked beforehand: a rejection means memory
    and database disagree, so the whole group fails and its books are reloaded."""
    if events and events[0][0] == "rejected":
        raise RuntimeError(f"the book refused an amend it was checked for: {events[0]}")
    return events
