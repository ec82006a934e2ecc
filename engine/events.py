"""Immutable events returned by every book call, in the order they happened.

For speed the book emits plain tuples (a NamedTuple costs ~2.5x as much to build, which was
a quarter of the engine's time). Each tuple has exactly the layout of the NamedTuple of the
same name below: field 0 ``kind`` names the type, field 1 ``seq`` is the book's sequence
number, which starts at 1 and rises by exactly one per event over all calls on one book
(rejections included), so a consumer can detect gaps.

Consume them by unpacking (``_, seq, order_id, reason = event`` for a rejection), or
convert them with ``named(event)`` to get attribute access and
``_asdict()``. A plain event tuple compares equal to its named form.
"""

from typing import Any, NamedTuple


class OrderAccepted(NamedTuple):
    """The order passed validation; for stops it now waits in the stop book."""

    kind: str  # "accepted"
    seq: int
    order_id: Any
    user_id: Any
    side: str
    order_type: str
    price: int | None  # None for market and stop_loss orders
    quantity: int
    stop_price: int | None  # None for limit and market orders
    time_in_force: str


class Trade(NamedTuple):
    """One fill, at the maker's price; remainders are those after this fill."""

    kind: str  # "trade"
    seq: int
    taker_order_id: Any
    maker_order_id: Any
    taker_user_id: Any
    maker_user_id: Any
    taker_side: str  # the maker is on the other side
    price: int
    quantity: int
    taker_remaining: int
    maker_remaining: int


class OrderCancelled(NamedTuple):
    """The order left the book (or never rested); ``remaining`` is the quantity cancelled."""

    kind: str  # "cancelled"
    seq: int
    order_id: Any
    user_id: Any
    side: str
    price: int | None  # None for market orders and stop_loss orders
    remaining: int
    reason: str  # a CancelReason


class OrderRejected(NamedTuple):
    """The command changed nothing: invalid order, duplicate id, or cancel of no open order."""

    kind: str  # "rejected"
    seq: int
    order_id: Any
    reason: str  # a RejectReason


class StopTriggered(NamedTuple):
    """A pending stop left the stop book; its fills and cancels follow as its own events."""

    kind: str  # "stop_triggered"
    seq: int
    order_id: Any
    stop_price: int
    last_price: int  # the last trade price that met the stop condition


class OrderReduced(NamedTuple):
    """A resting order's open quantity was lowered in place (OrderBook.reduce); it keeps its
    time priority."""

    kind: str  # "reduced"
    seq: int
    order_id: Any
    user_id: Any
    side: str
    price: int
    remaining: int  # the open quantity now


Event = OrderAccepted | Trade | OrderCancelled | OrderRejected | StopTriggered | OrderReduced

ACCEPTED = "accepted"
TRADE = "trade"
CANCELLED = "cancelled"
REJECTED = "rejected"
STOP_TRIGGERED = "stop_triggered"
REDUCED = "reduced"

EVENT_TYPES: dict[str, Any] = {
    ACCEPTED: OrderAccepted,
    TRADE: Trade,
    CANCELLED: OrderCancelled,
    REJECTED: OrderRejected,
    STOP_TRIGGERED: StopTriggered,
    REDUCED: OrderReduced,
}


def named(event: tuple) -> Event:
    """The NamedTuple form of an event tuple, chosen by its kind."""
    return EVENT_TYPES[event[0]]._make(event)
