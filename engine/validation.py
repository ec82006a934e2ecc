"""Order validation: the reason an order must be rejected, or None if it is acceptable."""

from engine.constants import (
    MAX_PRICE,
    OrderType,
    RejectReason,
    SelfTradePrevention,
    Side,
    TimeInForce,
)

# Tuples of plain strings: unhashable junk must reject, not raise, and comparing plain strings
# is faster than comparing enum members (which are equal to them).
_SIDES = tuple(side.value for side in Side)
_ORDER_TYPES = tuple(order_type.value for order_type in OrderType)
_TIME_IN_FORCE = tuple(tif.value for tif in TimeInForce)
_PREVENTION = tuple(prevention.value for prevention in SelfTradePrevention)
_NEEDS_PRICE = ("limit", "stop_limit")
_NEEDS_STOP_PRICE = ("stop_loss", "stop_limit")
_MAY_HAVE_CAP = ("market", "stop_loss")


def is_price(value) -> bool:
    """Whether value is a valid price in ticks: an int (not a bool) in 1..MAX_PRICE-1."""
    return type(value) is int and 0 < value < MAX_PRICE


def order_problem(side, order_type, quantity, price, stop_price, time_in_force,
                  self_trade_prevention, notional_cap) -> RejectReason | None:
    """Why an order with these fields is invalid, or None (duplicate ids are checked apart)."""
    if side not in _SIDES:
        return RejectReason.INVALID_SIDE
    if order_type not in _ORDER_TYPES:
        return RejectReason.INVALID_ORDER_TYPE
    if type(quantity) is not int or quantity <= 0:
        return RejectReason.INVALID_QUANTITY
    if not (is_price(price) if order_type in _NEEDS_PRICE else price is None):
        return RejectReason.INVALID_PRICE
    if not (is_price(stop_price) if order_type in _NEEDS_STOP_PRICE else stop_price is None):
        return RejectReason.INVALID_STOP_PRICE
    if time_in_force not in _TIME_IN_FORCE:
        return RejectReason.INVALID_TIME_IN_FORCE
    if self_trade_prevention not in _PREVENTION:
        return RejectReason.INVALID_SELF_TRADE_PREVENTION
    if notional_cap is not None and not (
        order_type in _MAY_HAVE_CAP and side == "buy"
        and type(notional_cap) is int and notional_cap > 0
    ):
        return RejectReason.INVALID_NOTIONAL_CAP
    return None
