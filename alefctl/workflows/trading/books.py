"""The books of the order path: their state in memory, which must follow the database, and
their rebuild from the database, the truth (open orders and pending stops in priority order)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.workflows.protections import PLATFORM_DEFAULTS, ProtectionDefaults
from alefctl.workflows.tokens import TRADED_STATUSES
from alefctl.workflows.trading.guards import MarketGuards
from alefctl.workflows.trading.state import OrderState
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL
from engine import BookSnapshot, OrderBook, PendingStop, RestingOrder

if TYPE_CHECKING:
    from alefctl.workflows.trading.group import OrderGroup



class Books:
    """The order path's state in memory, with one owner (the server's order writer; a command
    run without a server starts from an empty one): every book the server runs, the open orders
    as the last committed groups left them, and the market guards kept across groups.

    Groups read it and load books into it; only what committed is kept, and what a failed commit
    touched is restored from the database, so memory and database never disagree (docs/architecture.md,
    "The order path")."""

    def __init__(self, books: dict[uuid.UUID, OrderBook] | None = None,
                 protections: ProtectionDefaults = PLATFORM_DEFAULTS) -> None:
        self._books = {} if books is None else books
        # The owner is the only one to change open orders while it owns the books, so the makers
        # and cancels of later groups need no read.
        self._open_orders: dict[uuid.UUID, OrderState] = {}
        # Open orders and pending stops per (investor, token) of the books run, as committed.
        self._open_counts: Counter[tuple[uuid.UUID, uuid.UUID]] = Counter()
        self.guards = MarketGuards(protections)
        for token_id, book in self._books.items():
            self._count(token_id, book)

    @property
    def by_token(self) -> Mapping[uuid.UUID, OrderBook]:
        """The books run now, by token id (for readers: feeds.book_levels, depth_and_last)."""
        return self._books

    @property
    def open_orders(self) -> Mapping[uuid.UUID, OrderState]:
        """The open orders kept from committed groups, by id."""
        return self._open_orders

    def rebuild(self, conn: Connection) -> None:
        """Every book from the database, and no open order kept (at start)."""
        self._books = load_books(conn)
        self._open_orders = {}
        self._open_counts = Counter()
        for token_id, book in self._books.items():
            self._count(token_id, book)

    def book(self, conn: Connection, token_id: uuid.UUID) -> OrderBook:
        """A token's book, loaded from the database if it is not run yet (the token went live
        since, or its book was dropped after a failed commit)."""
        book = self._books.get(token_id)
        if book is None:
            book = self._books[token_id] = load_book(conn, token_id)
            self._count(token_id, book)
        return book

    def open_count(self, user_id: uuid.UUID, token_id: uuid.UUID) -> int:
        """An investor's open orders and pending stops on a token whose book is run, as committed."""
        return self._open_counts[(user_id, token_id)]

    def _count(self, token_id: uuid.UUID, book: OrderBook) -> None:
        snapshot = book.snapshot()
        for order in (*snapshot.resting_orders, *snapshot.pending_stops):
            self._open_counts[(order.user_id, token_id)] += 1

    def open_order(self, order_id: uuid.UUID) -> OrderState | None:
        """An open order as an earlier group committed it, if kept."""
        return self._open_orders.get(order_id)

    def apply(self, group: OrderGroup) -> None:
        """A group committed: keep the state of its open orders, forget its finished ones."""
        for order in group.orders.values():
            if order.is_finished:
                self._open_orders.pop(order.id, None)
            else:
                order.mark_committed()
                self._open_orders[order.id] = order
        for key, change in group.open_changes.items():
            if change:
                self._open_counts[key] += change

    def restore(self, group: OrderGroup) -> None:
        """A group failed to commit: drop the books it ran (each is reloaded from the database
        when next used) and forget its orders, changed in memory and not in the database."""
        dropped = group.token_ids()
        for token_id in dropped:
            self._books.pop(token_id, None)
        for key in [key for key in self._open_counts if key[1] in dropped]:
            del self._open_counts[key]  # counted again when the book is loaded
        for order_id in group.orders:
            self._open_orders.pop(order_id, None)


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


def depth_and_last(books: Mapping[uuid.UUID, OrderBook], token_id: uuid.UUID,
                   levels: int) -> tuple[Any, int | None] | None:
    """A book's depth (top levels) and last price in ticks, or None if no such book is run
    (a writer call: it runs where the books are)."""
    book = books.get(token_id)
    return None if book is None else (book.depth(levels), book.last_price)


def _ticks(price: Decimal, tick: Decimal) -> int:
    return int(price / tick)
