"""Market data: what a committed group reports, and the messages the server sends for it.

The writer (thread or process) turns each committed group into a report of plain data
(`group_report`): trades, the touched books' top levels, the orders that changed. The server
turns reports into channel messages (`BookFeeds.messages`); the hub encodes each message as
JSON text once, for all its subscribers, and only if it has any. Book feed: per token, a snapshot
(top levels, with a sequence number) and then deltas, each delta with the next sequence number;
a client that sees a gap asks for the snapshot again.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from alefctl.jsonfmt import json_text
from alefctl.workflows.halts import halt_message

DEPTH_LEVELS = 20
Message = tuple[str, dict[str, Any] | str]  # (channel, message data or its JSON text)
Levels = dict[tuple[str, Decimal], int]  # (side, price) -> quantity


def book_levels(books: Mapping[uuid.UUID, Any], token_id: uuid.UUID, tick: Decimal) -> Levels | None:
    """The top levels of a token's book in USD prices, or None if the server runs no such book
    (a writer call: it runs where the books are)."""
    book = books.get(token_id)
    if book is None:
        return None
    bids, asks = book.levels(DEPTH_LEVELS)
    levels = {("buy", price * tick): quantity for price, quantity in bids}
    levels.update({("sell", price * tick): quantity for price, quantity in asks})
    return levels


def group_report(group: Any, books: Mapping[uuid.UUID, Any]) -> dict[str, Any]:
    """A committed group as plain data: trade and order messages, the touched books' levels, and
    the halts its circuit breakers set (announced by server/halts.py)."""
    trades: list[Message] = []
    for trade in group.ledger.trades:
        market = group.markets[str(trade["token_id"])]
        trades.append((f"trades:{market.symbol}", {
            "type": "trade", "symbol": market.symbol, "trade_id": trade["id"],
            "price": trade["price"], "quantity": trade["quantity"],
            "taker_side": trade["taker_side"], "at": trade["created_at"]}))
    touched = {market.id: market for market, _event in group.events}
    levels = {market.symbol: book_levels(books, market.id, market.tick_size)
              for market in touched.values() if market.id in books}
    orders: list[Message] = []
    for order in (group.orders[order_id] for order_id in {row["order_id"] for row in group.ledger.history}):
        symbol = group.markets[str(order.token_id)].symbol
        orders.append((f"orders:{order.user_id}", {
            "type": "order", "order": {k: v for k, v in order.public(symbol).items() if k != "trades"}}))
    halts = [halt_message(market.symbol, halt.since, halt.until, halt.reason)
             for market, halt in group.halts]
    return {"trades": trades, "levels": levels, "orders": orders, "halts": halts}


class BookFeeds:
    """The latest published depth of each token, and the messages that move it on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._levels: dict[str, Levels] = {}
        self._seq: dict[str, int] = {}

    def snapshot(self, symbol: str) -> str:
        """The current book of a token as last published."""
        with self._lock:
            levels = dict(self._levels.get(symbol, {}))
            seq = self._seq.get(symbol, 0)
        bids = sorted(((p, q) for (s, p), q in levels.items() if s == "buy"), reverse=True)
        asks = sorted((p, q) for (s, p), q in levels.items() if s == "sell")
        return json_text({"type": "snapshot", "symbol": symbol, "seq": seq,
                          "bids": [[p, q] for p, q in bids], "asks": [[p, q] for p, q in asks]})

    def published(self, symbol: str) -> bool:
        """Whether any depth of the token has been published yet."""
        with self._lock:
            return symbol in self._levels

    def update(self, symbol: str, now: Levels) -> str | None:
        """The delta message from the last published depth to the depth now."""
        with self._lock:
            before = self._levels.get(symbol, {})
            changes = [[side, price, now.get((side, price), 0)]
                       for side, price in sorted(set(before) | set(now), key=str)
                       if before.get((side, price)) != now.get((side, price))]
            if not changes:
                return None
            self._levels[symbol] = now
            self._seq[symbol] = seq = self._seq.get(symbol, 0) + 1
        return json_text({"type": "delta", "symbol": symbol, "seq": seq, "changes": changes})

    def messages(self, report: dict[str, Any]) -> list[Message]:
        """Channel messages for one group's report: trades, book deltas, private order updates."""
        deltas = [(f"book:{symbol}", delta) for symbol, levels in report["levels"].items()
                  if levels is not None and (delta := self.update(symbol, levels)) is not None]
        return [*report["trades"], *deltas, *report["orders"]]
