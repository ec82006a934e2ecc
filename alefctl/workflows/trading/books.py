"""Books rebuilt from the database, the truth: open orders and pending stops in priority order."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL
from engine import BookSnapshot, OrderBook, PendingStop, RestingOrder

TRADED_STATUSES = ("secondary", "paused")


def load_book(conn: Connection, token_id: uuid.UUID) -> OrderBook:
    """One token's book exactly as the committed orders left it."""
    tick: Decimal = conn.execute(text("SELECT tick_size FROM tokens WHERE id = :t"),
                                 {"t": token_id}).scalar_one()
    rows = conn.execute(text(
        "SELECT id, user_id, side, order_type, time_in_force, stp_mode, price, stop_price,"
        " quantity - filled_quantity AS remaining, locked_fiat, status FROM orders"
        f" WHERE token_id = :t AND status IN {OPEN_STATUSES_SQL}"
        " ORDER BY engine_seq, created_at, id"), {"t": token_id}).all()
    resting = tuple(RestingOrder(r.id, r.user_id, r.side, _ticks(r.price, tick), r.remaining)
                    for r in rows if r.status != "pending_stop")
    stops = tuple(PendingStop(
        r.id, r.user_id, r.side, r.order_type, r.remaining, _ticks(r.stop_price, tick),
        _ticks(r.price, tick) if r.price is not None else None, r.time_in_force, r.stp_mode,
        int(r.locked_fiat / tick) if r.side == "buy" and r.price is None else None)
        for r in rows if r.status == "pending_stop")
    last = conn.execute(text("SELECT price FROM trades WHERE token_id = :t"
                             " ORDER BY engine_seq DESC NULLS LAST, created_at DESC LIMIT 1"),
                        {"t": token_id}).scalar()
    sequence = conn.execute(text(
        "SELECT greatest(coalesce((SELECT max(engine_seq) FROM orders WHERE token_id = :t), 0),"
        " coalesce((SELECT max(engine_seq) FROM trades WHERE token_id = :t), 0))"),
        {"t": token_id}).scalar_one()
    return OrderBook.restore(BookSnapshot(resting, stops,
                                          None if last is None else _ticks(last, tick), sequence))


def load_books(conn: Connection) -> dict[uuid.UUID, OrderBook]:
    """Every book the server runs: tokens on the order book, and any with open orders."""
    token_ids = conn.execute(text(
        "SELECT id FROM tokens WHERE (status = ANY(:traded) AND trading_mode = 'full_orderbook')"
        f" OR id IN (SELECT token_id FROM orders WHERE status IN {OPEN_STATUSES_SQL}) ORDER BY id"),
        {"traded": list(TRADED_STATUSES)}).scalars().all()
    return {token_id: load_book(conn, token_id) for token_id in token_ids}


def depth_and_last(books: dict[uuid.UUID, OrderBook], token_id: uuid.UUID,
                   levels: int) -> tuple[Any, int | None] | None:
    """A book's depth (top levels) and last price in ticks, or None if no such book is run
    (a writer call: it runs where the books are)."""
    book = books.get(token_id)
    return None if book is None else (book.depth(levels), book.last_price)


def _ticks(price: Decimal, tick: Decimal) -> int:
    return int(price / tick)
