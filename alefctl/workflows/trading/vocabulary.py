"""The order vocabulary, declared once: sides, order types, time in force, self-trade prevention
and order statuses, as Literal types and as the tuples of their values.

Two other spellings exist and must agree with this one (tests/test_vocabulary.py compares them):
the matching engine's StrEnums (engine/constants.py; the engine imports nothing of alefctl, and
takes these strings as they are) and the CHECK constraints of the orders table (schema.sql, as
the migrations in alefctl/db/migrations redefine them).
"""

from __future__ import annotations

from typing import Literal, get_args

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market", "stop_loss", "stop_limit"]
TimeInForce = Literal["GTC", "IOC", "FOK", "GTD", "DAY"]
StpMode = Literal["none", "cancel_taker", "cancel_maker", "cancel_both"]
OrderStatus = Literal["open", "partially_filled", "filled", "cancelled", "pending_stop"]

SIDES: tuple[Side, ...] = get_args(Side)
ORDER_TYPES: tuple[OrderType, ...] = get_args(OrderType)
TIME_IN_FORCE: tuple[TimeInForce, ...] = get_args(TimeInForce)
STP_MODES: tuple[StpMode, ...] = get_args(StpMode)
ORDER_STATUSES: tuple[OrderStatus, ...] = get_args(OrderStatus)
# Resting in a book or waiting for its stop: what the server rebuilds its books from.
OPEN_STATUSES: tuple[OrderStatus, ...] = ("open", "partially_filled", "pending_stop")
FINISHED_STATUSES: tuple[OrderStatus, ...] = ("filled", "cancelled")
PRICED_TYPES: tuple[OrderType, ...] = ("limit", "stop_limit")  # they need a limit price
STOP_TYPES: tuple[OrderType, ...] = ("stop_loss", "stop_limit")  # they need a stop price
# They rest like GTC until expire_at (GTD: given; DAY: the token's session end), then expire.
DATED_TIME_IN_FORCE: tuple[TimeInForce, ...] = ("GTD", "DAY")

DEFAULT_ORDER_TYPE: OrderType = "limit"
DEFAULT_TIME_IN_FORCE: TimeInForce = "GTC"
DEFAULT_STP_MODE: StpMode = "cancel_taker"


def sql_list(values: tuple[str, ...]) -> str:
    """A tuple of this vocabulary as an SQL list, `('open', 'partially_filled', ...)`.

    Spelled out in the statement, not bound as a parameter: the partial indexes on open orders
    (schema.sql) serve only statements whose own text implies their WHERE clause, which a
    parameter's value does not in a generic plan."""
    if not all(value.isidentifier() for value in values):  # constants, never input
        raise ValueError(f"not a vocabulary word: {values!r}")
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


OPEN_STATUSES_SQL = sql_list(OPEN_STATUSES)  # for `status IN {OPEN_STATUSES_SQL}`
