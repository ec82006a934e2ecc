"""Market data messages built on the writer thread after each committed group.

Book feed: per token, a snapshot (top levels, with a sequence number) and then deltas, each
delta with the next sequence number; a client that sees a gap asks for the snapshot again.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from alefctl.db.audit import to_jsonable

DEPTH_LEVELS = 20
Message = tuple[str, dict[str, Any]]


class BookFeeds:
    """The latest published depth of each token, and the messages that move it on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[str, dict[tuple[str, Decimal], int]] = {}
        self._seq: dict[str, int] = {}

    def snapshot(self, symbol: str) -> dict[str, Any]:
        """The current book of a token as last published."""
        with self._lock:
            levels = dict(self._levels.get(symbol, {}))
            seq = self._seq.get(symbol, 0)
        bids = sorted(((p, q) for (s, p), q in levels.items() if s == "buy"), reverse=True)
        asks = sorted((p, q) for (s, p), q in levels.items() if s == "sell")
        return to_jsonable({"type": "snapshot", "symbol": symbol, "seq": seq,
                            "bids": [[p, q] for p, q in bids], "asks": [[p, q] for p, q in asks]})

    def update(self, symbol: str, book: Any, tick: Decimal) -> dict[str, Any] | None:
        """The delta message from the last published depth to the book's depth now."""
        depth = book.depth(DEPTH_LEVELS)
        now = {("buy", level.price * tick): level.quantity for level in depth.bids}
        now.update({("sell", level.price * tick): level.quantity for level in depth.asks})
        with self._lock:
            before = self._levels.get(symbol, {})
            changes = [[side, price, now.get((side, price), 0)]
                       for side, price in sorted(set(before) | set(now), key=str)
                       if before.get((side, price)) != now.get((side, price))]
            if not changes:
                return None
            self._levels[symbol] = now
            self._seq[symbol] = seq = self._seq.get(symbol, 0) + 1
        return to_jsonable({"type": "delta", "symbol": symbol, "seq": seq, "changes": changes})


def group_messages(group: Any, books: dict[Any, Any], feeds: BookFeeds) -> list[Message]:
    """Channel messages for one committed group: trades, book deltas, private order updates."""
    messages: list[Message] = []
    for trade in group.ledger.trades:
        market = group.markets[str(trade["token_id"])]
        messages.append((f"trades:{market.symbol}", to_jsonable({
            "type": "trade", "symbol": market.symbol, "trade_id": trade["id"],
            "price": trade["price"], "quantity": trade["quantity"],
            "taker_side": trade["taker_side"], "at": trade["created_at"]})))
    touched = {market.id: market for market, _event in group.events}
    for market in touched.values():
        if market.id in books:
            delta = feeds.update(market.symbol, books[market.id], market.tick_size)
            if delta is not None:
                messages.append((f"book:{market.symbol}", delta))
    changed = {row["order_id"] for row in group.ledger.history}
    for order in (group.orders[order_id] for order_id in changed):
        symbol = group.markets[str(order.token_id)].symbol
        messages.append((f"orders:{order.user_id}", to_jsonable(
            {"type": "order", "order": {k: v for k, v in order.public(symbol).items()
                                        if k != "trades"}})))
    return messages
