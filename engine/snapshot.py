"""Snapshot and restore: a book rebuilt exactly from its resting orders and pending stops."""

from typing import Any, NamedTuple

from engine.constants import MAX_PRICE, OrderType, Side

_STOP_TYPES = (OrderType.STOP_LOSS, OrderType.STOP_LIMIT)


class RestingOrder(NamedTuple):
    """A limit order resting in the book."""

    order_id: Any
    user_id: Any
    side: str
    price: int
    remaining: int


class PendingStop(NamedTuple):
    """A stop order waiting in the stop book."""

    order_id: Any
    user_id: Any
    side: str
    order_type: str  # stop_loss or stop_limit
    quantity: int
    stop_price: int
    price: int | None = None  # the limit price of a stop_limit
    time_in_force: str = "GTC"
    self_trade_prevention: str = "none"
    notional_cap: int | None = None


class BookSnapshot(NamedTuple):
    """Everything that decides a book's future events.

    ``resting_orders`` may come in any order in which the orders of each price level appear in
    time priority (the database's created_at order qualifies); ``pending_stops`` must be in
    arrival order. ``sequence`` is the seq of the last event emitted (0 for a new book).
    """

    resting_orders: tuple[RestingOrder, ...] = ()
    pending_stops: tuple[PendingStop, ...] = ()
    last_price: int | None = None
    sequence: int = 0


class BookStateError(ValueError):
    """A snapshot that no book could be in (bad field, duplicate id, crossed book)."""


def take_snapshot(book) -> BookSnapshot:
    """Capture a book: resting orders by side, best level first, each level in time priority."""
    resting = []
    for book_side, side in ((book._bids, Side.BUY), (book._asks, Side.SELL)):
        for rank in reversed(book_side.ranks):
            for entry in book_side.levels[rank][2]:
                if entry[0]:
                    resting.append(RestingOrder(entry[1], entry[2], side, entry[3], entry[0]))
    stops = tuple(
        PendingStop(s.order_id, s.user_id, s.side, s.order_type, s.quantity, s.stop_price,
                    s.price, s.time_in_force, s.self_trade_prevention, s.notional_cap)
        for s in book._stops.in_arrival_order()
    )
    return BookSnapshot(tuple(resting), stops, book._last_price, book._seq)


def restore_into(book, snapshot: BookSnapshot) -> None:
    """Fill an empty book from a snapshot; raise BookStateError if the snapshot is invalid."""
    for order in snapshot.resting_orders:
        _check_resting(book, order)
        is_buy = order.side == Side.BUY
        own = book._bids if is_buy else book._asks
        book._rest(own, order.price * own.sign,
                   [order.remaining, order.order_id, order.user_id, order.price,
                    Side.BUY if is_buy else Side.SELL, None])
    best_bid, best_ask = book.best_bid(), book.best_ask()
    if best_bid is not None and best_ask is not None and best_bid >= best_ask:
        raise BookStateError(f"crossed book: best bid {best_bid} >= best ask {best_ask}")
    for stop in snapshot.pending_stops:
        if stop.order_type not in _STOP_TYPES:
            raise BookStateError(f"pending stop {stop.order_id!r}: bad type {stop.order_type!r}")
        events = book.submit(stop.order_id, stop.user_id, stop.side, stop.order_type,
                             stop.quantity, stop.price, stop.stop_price, stop.time_in_force,
                             stop.self_trade_prevention, stop.notional_cap)
        if events[0][0] != "accepted":
            raise BookStateError(f"pending stop {stop.order_id!r}: {events[0][-1]}")
    last_price = snapshot.last_price
    if last_price is not None and (type(last_price) is not int or not 0 < last_price < MAX_PRICE):
        raise BookStateError(f"bad last price {last_price!r}")
    book._last_price = last_price
    book._seq = snapshot.sequence


def _check_resting(book, order: RestingOrder) -> None:
    if order.side not in (Side.BUY, Side.SELL):
        raise BookStateError(f"order {order.order_id!r}: bad side {order.side!r}")
    if type(order.price) is not int or not 0 < order.price < MAX_PRICE:
        raise BookStateError(f"order {order.order_id!r}: bad price {order.price!r}")
    if type(order.remaining) is not int or order.remaining <= 0:
        raise BookStateError(f"order {order.order_id!r}: bad remaining {order.remaining!r}")
    if order.order_id in book._live:
        raise BookStateError(f"order {order.order_id!r}: duplicate id")
