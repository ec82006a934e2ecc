"""Vocabulary of the matching engine: sides, order types, time in force, reasons.

Every value is a ``StrEnum`` whose string equals the spelling used in the database
(``orders.side``, ``orders.order_type``), so plain strings are accepted wherever a member is.
"""

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    STOP_LOSS = "stop_loss"  # becomes a market order when triggered
    STOP_LIMIT = "stop_limit"  # becomes a limit order at its limit price when triggered


class TimeInForce(StrEnum):
    GTC = "GTC"  # good till cancelled: the remainder rests
    IOC = "IOC"  # immediate or cancel: the remainder is cancelled
    FOK = "FOK"  # fill or kill: fills completely at once or not at all
    # The engine has no clock: these rest like GTC, and the caller cancels them when they expire.
    GTD = "GTD"  # good till date
    DAY = "DAY"  # good till the token's session end


class SelfTradePrevention(StrEnum):
    """What happens when an incoming order would trade with a resting order of the same user."""

    NONE = "none"  # trade anyway (surveillance flags it as a wash trade)
    CANCEL_TAKER = "cancel_taker"
    CANCEL_MAKER = "cancel_maker"
    CANCEL_BOTH = "cancel_both"


class CancelReason(StrEnum):
    USER = "user"  # cancel() was called
    IOC_REMAINDER = "ioc_remainder"
    FOK_UNFILLED = "fok_unfilled"
    MARKET_UNFILLED = "market_unfilled"  # the book ran out before a market order was filled
    NOTIONAL_CAP = "notional_cap"  # a market buy reached the money it may spend
    SELF_TRADE = "self_trade"
    # Cancels the caller asks for with a reason of its own (OrderBook.cancel's reason):
    EXPIRED = "expired"  # a GTD or DAY order reached its expiry
    CANCEL_ALL_AFTER = "cancel_all_after"  # its owner's dead-man's switch lapsed
    AMENDED = "amended"  # cancelled to be replaced at a new price (it loses its priority)


class RejectReason(StrEnum):
    INVALID_SIDE = "invalid_side"
    INVALID_ORDER_TYPE = "invalid_order_type"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_PRICE = "invalid_price"
    INVALID_STOP_PRICE = "invalid_stop_price"
    INVALID_TIME_IN_FORCE = "invalid_time_in_force"
    INVALID_SELF_TRADE_PREVENTION = "invalid_self_trade_prevention"
    INVALID_NOTIONAL_CAP = "invalid_notional_cap"
    DUPLICATE_ORDER_ID = "duplicate_order_id"
    ORDER_NOT_FOUND = "order_not_found"  # cancel of an unknown or already finished order


# Prices are positive integers below this bound; it doubles as "no limit" for market orders.
MAX_PRICE = 1 << 62
