"""An alert's evidence as a reviewer reads it: the orders and trades its book events name.

The detector stores the engine's event tuples (engine/events.py: a trade names its taker and
maker orders, a cancel its order). They are kept as ids, not copies: the orders and trades are
read from their own tables when the alert is shown, so the reviewer sees each one's times and
where it stands now (a spoofing order's cancel time, a wash trade's settlement). The ids were
written in the same transaction as those rows, so they always resolve.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from sqlalchemy import Connection, text


class Evidence(TypedDict):
    """What an alert is based on."""

    detail: str
    orders: list[dict[str, Any]]  # in the order they were placed
    trades: list[dict[str, Any]]  # in the order they happened


def evidence_of(conn: Connection, token_id: uuid.UUID, stored: dict[str, Any]) -> Evidence:
    """The orders and trades named by the stored events of one alert."""
    order_ids, trade_pairs = named_ids(stored.get("events") or [])
    orders = conn.execute(text(
        "SELECT o.id, u.email AS user, o.side, o.order_type, o.price, o.quantity,"
        " o.filled_quantity, o.status, o.cancel_reason, o.created_at AS placed_at,"
        " o.updated_at AS last_change_at FROM orders o JOIN users u ON u.id = o.user_id"
        " WHERE o.id = ANY(:ids) AND o.token_id = :token ORDER BY o.created_at, o.id"),
        {"ids": sorted(order_ids), "token": token_id})
    trades = conn.execute(text(
        "SELECT t.id, t.buy_order_id, t.sell_order_id, b.email AS buyer, s.email AS seller,"
        " t.taker_side, t.price, t.quantity, t.settlement_status, t.created_at AS traded_at"
        " FROM trades t JOIN users b ON b.id = t.buyer_id JOIN users s ON s.id = t.seller_id"
        " WHERE t.token_id = :token AND t.buy_order_id = ANY(:ids) AND t.sell_order_id = ANY(:ids)"
        " ORDER BY t.created_at, t.id"), {"ids": sorted(order_ids), "token": token_id})
    return Evidence(
        detail=str(stored.get("detail") or ""),
        orders=[dict(row._mapping) for row in orders],
        trades=[dict(row._mapping) for row in trades
                if frozenset((row.buy_order_id, row.sell_order_id)) in trade_pairs])


def named_ids(events: list[list[Any]]) -> tuple[set[uuid.UUID], set[frozenset[uuid.UUID]]]:
    """The order ids the events name, and each trade as the pair of its two orders (a taker
    meets a given maker at most once, so the pair identifies the trade)."""
    order_ids: set[uuid.UUID] = set()
    trade_pairs: set[frozenset[uuid.UUID]] = set()
    for event in events:
        if event and event[0] == "trade":
            taker, maker = uuid.UUID(str(event[2])), uuid.UUID(str(event[3]))
            order_ids.update((taker, maker))
            trade_pairs.add(frozenset((taker, maker)))
        elif event and event[0] in ("cancelled", "accepted"):
            order_ids.add(uuid.UUID(str(event[2])))
    return order_ids, trade_pairs
