"""Orders: what an investor sends, its checks before the book, and the read side.

Placing and cancelling go through the server's per-book writer (order_batch.py), which runs
the spec's sequence inside a group transaction. Prices cross the engine edge as integer ticks
of the token's tick size; conversion is exact (a price off the tick grid is refused).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput, NotFound
from alefctl.money import format_usd
from alefctl.workflows.actor import Actor
from alefctl.workflows.trading.vocabulary import (
    DATED_TIME_IN_FORCE,
    DEFAULT_ORDER_TYPE,
    DEFAULT_STP_MODE,
    DEFAULT_TIME_IN_FORCE,
    ORDER_TYPES,
    PRICED_TYPES,
    SIDES,
    STOP_TYPES,
    STP_MODES,
    TIME_IN_FORCE,
)

ORDER_COLUMNS = (
    "o.id, o.user_id, t.symbol, o.token_id, o.client_order_id, o.side, o.order_type,"
    " o.time_in_force, o.price, o.stop_price, o.quantity, o.filled_quantity,"
    " o.remaining_quantity, o.locked_fiat, o.locked_quantity, o.status, o.cancel_reason,"
    " o.expire_at, o.created_at, o.updated_at"
)


def _one_of(words: tuple[str, ...]) -> Any:
    """The JSON schema of a text field that takes these words (checked by check_order_shape,
    which names the field that is wrong)."""
    return Field(json_schema_extra={"enum": list(words)})


# Also the JSON body of POST /api/v1/orders, validated by pydantic (server/routes/orders.py;
# the docstring is its OpenAPI description): there the token is `token_id`, and order_type may
# be left out (a limit order). In Python every field up to quantity is given.
@dataclass(frozen=True)
class OrderRequest:
    """A new order; prices are USD strings on the token's tick grid."""

    token: Annotated[str, Field(alias="token_id", description="token symbol or id")]
    side: Annotated[str, _one_of(SIDES)]
    order_type: Annotated[str, _one_of(ORDER_TYPES), Field(default=DEFAULT_ORDER_TYPE)]
    quantity: Annotated[int, Field(strict=True)]  # a JSON integer: not "5", 5.0 or 5e0
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: Annotated[str, _one_of(TIME_IN_FORCE)] = DEFAULT_TIME_IN_FORCE
    expire_at: Annotated[datetime | None, Field(
        description="GTD only (and required): when the order expires, ISO-8601 with a time"
        " zone, in the future and at most settings.lifetime.max_expiry_days ahead")] = None
    client_order_id: str | None = None
    self_trade_prevention: Annotated[str, _one_of(STP_MODES)] = DEFAULT_STP_MODE
    confirm_fat_finger: bool = False
    confirm_nav_deviation: bool = False


@dataclass(frozen=True)
class AmendRequest:
    """A change to an open limit order: its total quantity down (it keeps its time priority),
    its price (it loses its priority), or both; at least one of them."""

    quantity: Annotated[int | None, Field(strict=True)] = None
    price: Decimal | None = None
    confirm_fat_finger: bool = False
    confirm_nav_deviation: bool = False


def check_order_shape(order: OrderRequest) -> None:
    """Pre-flight of the spec: side, quantity, type and the prices each type needs."""
    if order.side not in SIDES:
        raise InvalidInput(f"side must be {_either(SIDES)}", field="side")
    if order.order_type not in ORDER_TYPES:
        raise InvalidInput(f"order_type must be one of {', '.join(ORDER_TYPES)}",
                           field="order_type")
    if not isinstance(order.quantity, int) or order.quantity <= 0:
        raise InvalidInput("quantity must be a whole number above zero", field="quantity")
    if order.time_in_force not in TIME_IN_FORCE:
        raise InvalidInput(f"time_in_force must be {_either(TIME_IN_FORCE)}", field="time_in_force")
    check_lifetime(order)
    if order.self_trade_prevention not in STP_MODES:
        raise InvalidInput(f"self_trade_prevention must be one of {', '.join(STP_MODES)}",
                           field="self_trade_prevention")
    needs_price = order.order_type in PRICED_TYPES
    needs_stop = order.order_type in STOP_TYPES
    if needs_price != (order.price is not None):
        raise InvalidInput(f"a {order.order_type} order {'needs' if needs_price else 'takes no'}"
                           " price", field="price")
    if needs_stop != (order.stop_price is not None):
        raise InvalidInput(f"a {order.order_type} order {'needs' if needs_stop else 'takes no'}"
                           " stop_price", field="stop_price")
    if order.client_order_id is not None and not 0 < len(order.client_order_id) <= 64:
        raise InvalidInput("client_order_id must be 1-64 characters", field="client_order_id")


def check_lifetime(order: OrderRequest) -> None:
    """GTD and DAY orders rest until they expire, so a market order can be neither; a GTD order
    names its expire_at, and no other order does (its bounds: trading/lifetime.py)."""
    if order.time_in_force in DATED_TIME_IN_FORCE and order.order_type == "market":
        raise InvalidInput(f"a market order cannot be {order.time_in_force}: it never rests",
                           field="time_in_force")
    if (order.time_in_force == "GTD") != (order.expire_at is not None):
        raise InvalidInput("expire_at is given with time_in_force GTD, and only then",
                           field="expire_at")


def _either(words: tuple[str, ...]) -> str:
    """`a, b or c`."""
    return f"{', '.join(words[:-1])} or {words[-1]}"


def parse_price(raw: str | None, *, field: str = "price") -> Decimal | None:
    """A price as typed on a command line (its tick grid is checked by to_ticks), or None."""
    if raw is None:
        return None
    try:
        return Decimal(raw.strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a number: {raw!r}", field=field) from None


def to_ticks(price: Decimal | str | None, tick_size: Decimal, *, field: str = "price") -> int | None:
    """A USD price as whole ticks; refuses prices that are not on the tick grid."""
    if price is None:
        return None
    try:
        value = Decimal(str(price))
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a number: {price!r}", field=field) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{field} must be above zero", field=field)
    with localcontext(prec=80):  # exact: the default 28 digits rounded 10.000...0001 onto the grid
        ticks = value / tick_size
    if ticks != ticks.to_integral_value():
        raise InvalidInput(f"{field} {format_usd(value)} USD is not a multiple of the tick size"
                           f" {format_usd(tick_size)} USD", field=field)
    return int(ticks)


def from_ticks(ticks: int | None, tick_size: Decimal) -> Decimal | None:
    """Whole ticks as a USD price."""
    return None if ticks is None else ticks * tick_size


def list_orders(conn: Connection, actor: Actor, *, status: str | None = None,
                token: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The actor's own orders, newest first (admins may pass no owner filter later)."""
    rows = conn.execute(text(
        f"SELECT {ORDER_COLUMNS} FROM orders o JOIN tokens t ON t.id = o.token_id"
        " WHERE o.user_id = :u AND (CAST(:s AS text) IS NULL OR o.status = :s)"
        " AND (CAST(:sym AS text) IS NULL OR t.symbol = :sym)"
        " ORDER BY o.created_at DESC, o.id DESC LIMIT :limit"),
        {"u": actor.user_id, "s": status, "sym": token, "limit": limit})
    return [dict(row._mapping) for row in rows]


def get_order(conn: Connection, order_id: str, *, owner: uuid.UUID | None = None) -> dict[str, Any]:
    """One order; with owner set, someone else's order is reported as not found."""
    try:
        key = uuid.UUID(order_id)
    except ValueError:
        raise NotFound(f"order not found: {order_id}") from None
    row = conn.execute(text(f"SELECT {ORDER_COLUMNS} FROM orders o JOIN tokens t"
                            " ON t.id = o.token_id WHERE o.id = :id"), {"id": key}).first()
    if row is None or (owner is not None and row.user_id != owner):
        raise NotFound(f"order not found: {order_id}")
    return dict(row._mapping)


def list_trades(conn: Connection, actor: Actor, *, token: str | None = None,
                limit: int = 200) -> list[dict[str, Any]]:
    """The actor's own trades (as buyer or seller), newest first."""
    rows = conn.execute(text(
        "SELECT tr.id, t.symbol, tr.token_id, CASE WHEN tr.buyer_id = :u THEN 'buy' ELSE 'sell'"
        " END AS side, tr.price, tr.quantity, tr.total, CASE WHEN tr.seller_id = :u THEN"
        " tr.platform_fee ELSE 0.00 END AS fee, tr.settlement_status, tr.settlement_type,"
        " tr.tx_hash, tr.created_at FROM trades tr JOIN tokens t ON t.id = tr.token_id"
        " WHERE (tr.buyer_id = :u OR tr.seller_id = :u)"
        " AND (CAST(:sym AS text) IS NULL OR t.symbol = :sym)"
        " ORDER BY tr.created_at DESC, tr.id DESC LIMIT :limit"),
        {"u": actor.user_id, "sym": token, "limit": limit})
    return [dict(row._mapping) for row in rows]


def recent_trades(conn: Connection, token_id: uuid.UUID, limit: int = 50) -> list[dict[str, Any]]:
    """A token's latest trades, public fields only."""
    rows = conn.execute(text(
        "SELECT id, price, quantity, taker_side, created_at FROM trades WHERE token_id = :t"
        " ORDER BY created_at DESC, id DESC LIMIT :limit"), {"t": token_id, "limit": limit})
    return [dict(row._mapping) for row in rows]


def order_time(row: dict[str, Any]) -> datetime:
    """When an order was placed (its time priority)."""
    return row["created_at"]
