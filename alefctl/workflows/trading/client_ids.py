"""Resent client_order_ids in an order group: a retry returns the original order, never a
second one (README, "The order API")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.workflows.trading.state import LOAD_COLUMNS, OrderState
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

if TYPE_CHECKING:
    from alefctl.workflows.trading.market import Market

ClientOrderKey = tuple[uuid.UUID, str]  # (investor, client_order_id)
# A resent client_order_id returns the original order, whatever its state, while it is open and
# for this long after it was placed (README, "The order API"); later the id may be used again.
CLIENT_ORDER_ID_WINDOW = timedelta(hours=24)
# Each key's newest order, if still open or placed within the window: one probe of the index
# orders_client_order_id per key (newest first, LIMIT 1). As a plain join, the planner scanned
# every order with a client_order_id and hashed them whenever the statistics lagged a
# fast-growing orders table; the LIMIT keeps each lookup a probe whatever the statistics say.
BY_CLIENT_ID = text(
    "SELECT o.*, (SELECT symbol FROM tokens WHERE id = o.token_id) AS symbol"
    " FROM unnest(CAST(:users AS uuid[]), CAST(:client_ids AS text[]))"
    " AS k(user_id, client_order_id) CROSS JOIN LATERAL"
    f" (SELECT {LOAD_COLUMNS} FROM orders WHERE user_id = k.user_id"
    " AND client_order_id = k.client_order_id ORDER BY created_at DESC LIMIT 1) AS o"
    f" WHERE o.status IN {OPEN_STATUSES_SQL} OR o.created_at > :since")


@dataclass(frozen=True)
class Original:
    """The order a client_order_id names, as loaded, and its token's symbol."""

    order: OrderState
    symbol: str


class ClientOrderIds:
    """The group's client_order_ids: the originals as loaded, and the orders placed in it."""

    def __init__(self) -> None:
        self.loaded: dict[ClientOrderKey, Original | None] = {}
        self.placed: dict[ClientOrderKey, OrderState] = {}  # new in this group

    def unknown(self, keys: set[ClientOrderKey]) -> list[ClientOrderKey]:
        """The keys not looked up yet, sorted."""
        return sorted(keys - self.loaded.keys())

    def add(self, keys: list[ClientOrderKey], rows: Any) -> None:
        """Record what BY_CLIENT_ID found for the keys: each key's original, or None."""
        found = {}
        for row in rows:
            fields = row._asdict()
            symbol = fields.pop("symbol")
            found[(row.user_id, row.client_order_id)] = Original(OrderState(**fields), symbol)
        self.loaded.update({key: found.get(key) for key in keys})

    def original(self, conn: Connection, key: ClientOrderKey, clock: Callable[[], datetime],
                 orders: dict[uuid.UUID, OrderState],
                 markets: dict[str, Market]) -> dict[str, Any] | None:
        """The answer to a resent client_order_id: the original order as it is now (marked
        `duplicate`, no fills of its own), or None for a new key. `orders` are the group's
        (as it left them, if it touched the original), `markets` its tokens by str(id)."""
        placed = self.placed.get(key)
        if placed is not None:
            return _resent(placed, markets[str(placed.token_id)].symbol)
        if key not in self.loaded:
            self.add([key], conn.execute(BY_CLIENT_ID, lookup_params([key], clock())))
        found = self.loaded[key]
        if found is None:
            return None
        return _resent(orders.get(found.order.id, found.order), found.symbol)


def lookup_params(keys: list[ClientOrderKey], now: datetime) -> dict[str, Any]:
    """BY_CLIENT_ID's parameters for the keys."""
    return {"users": [u for u, _ in keys], "client_ids": [c for _, c in keys],
            "since": now - CLIENT_ORDER_ID_WINDOW}


def _resent(order: OrderState, symbol: str) -> dict[str, Any]:
    """The answer to a retry: the order now, without fills (this request made none)."""
    return order.public(symbol) | {"trades": [], "duplicate": True}
