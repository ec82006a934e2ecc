"""The order writer: one thread owns every book and commits order commands in groups.

Commands queue up while a group commits; the next group takes all of them (up to max_group),
runs them through the books and writes them in one transaction, so a busy book is bound by CPU,
not by one fsync per order. With grouped=False every command has a transaction of its own (the
spec's behaviour, kept as a setting for comparison). If a group's transaction fails, the books
it touched are restored (workflows/trading/books.py: Books) and its two halves are retried apart,
again and again until the command at fault is alone (about 2·log2(n) transactions for a group
of n, not n): memory and database never disagree, the others commit, and the bad command is
refused by itself, with 422 when the database refused one of its values and 503 otherwise,
its text never the database's (that is logged). A database outage fails the group at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.db.batches import plan_by_key
from alefctl.db.errors import database_error, is_outage, is_refused_value
from alefctl.db.system_users import treasury_id
from alefctl.errors import AlefError, Conflict, InvalidInput, Unavailable
from alefctl.redact import get_logger
from alefctl.server.feeds import group_report
from alefctl.workflows.protections import PLATFORM_DEFAULTS, ProtectionDefaults
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.commands import AmendOrder, CancelOrder, Command, PlaceOrder
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup
from alefctl.workflows.trading.state import MonotonicClock

log = get_logger("alefctl.writer")
ORDER_COMMANDS = (PlaceOrder, CancelOrder, AmendOrder)
NOT_COMMITTED = "the order could not be committed (it was not placed); the error is logged"


class Writer(Protocol):
    """An order writer as the server uses it: OrderWriter (a thread in the server's process) or
    writer_process.WriterProcess (a process of its own). The server's uses are typed against it."""

    def start(self) -> None:
        """Own the books and rebuild them; then take commands."""

    def stop(self) -> None:
        """Finish the queued commands, then stop and let another server own the books."""

    def submit(self, command: Command) -> Future[Any]:
        """Queue an order command; the Future resolves after its group commits."""

    def call(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run fn(books, *args) where the books are: books by token id, read-only; fn must be a
        module-level function (it may cross to the writer process)."""

    def depth(self) -> int:
        """Commands (and calls) waiting for the writer."""


class OrderWriter:
    """Owns the books (Books); `submit` returns a Future of the command's outcome; `publish` gets
    each committed group's report (feeds.group_report, with its size and its COMMIT's time)."""

    def __init__(self, db: Engine, limits: NotionalLimits, publish: Callable[[Any], None],
                 *, grouped: bool = True, max_group: int = 256,
                 protections: ProtectionDefaults = PLATFORM_DEFAULTS):
        self.db = db
        self.limits = limits
        self.publish = publish
        self.max_group = max_group if grouped else 1
        self.clock = MonotonicClock()
        self.queue: queue.Queue[tuple[Command, Future[Any]] | None] = queue.Queue()
        self.books = Books(protections=protections)
        self._thread = threading.Thread(target=self._loop, name="order-writer", daemon=True)

    def start(self) -> None:
        """Own the books (one server per database), rebuild them, start taking commands."""
        self._owner = self.db.connect()
        owned = locks.try_lock(self._owner, locks.BOOK_OWNER)
        self._owner.commit()
        if not owned:
            self._owner.close()
            raise Conflict("another alefctl serve already owns the order books of this database")
        with self.db.connect() as conn:
            self.books.rebuild(conn)
            self.treasury = treasury_id(conn)
        self._conn = self._connect()
        self._thread.start()

    def stop(self) -> None:
        """Finish the queued commands, then stop and let another server own the books."""
        self.queue.put(None)
        self._thread.join(timeout=10)
        self._conn.close()
        locks.unlock(self._owner, locks.BOOK_OWNER)
        self._owner.commit()
        self._owner.close()

    def _connect(self) -> Connection:
        """The writer's own connection (no pool checkout per group), planning by key."""
        conn = self.db.connect()
        plan_by_key(conn)
        conn.commit()
        return conn

    def submit(self, command: Command) -> Future[Any]:
        """Queue a command; the Future resolves after its group commits."""
        future: Future[Any] = Future()
        self.queue.put((command, future))
        return future

    def depth(self) -> int:
        """Commands waiting for the writer."""
        return self.queue.qsize()

    def call(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run fn(books, *args) on the writer thread (reads of book state from other threads)."""
        future: Future[Any] = Future()
        self.queue.put((lambda books: fn(books, *args), future))  # type: ignore[arg-type]
        return future

    def _loop(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.max_group:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)
                    break
                batch.append(nxt)
            try:
                self._run(batch)
            except Exception:  # the writer must outlive any bug: fail the batch, go on
                log.exception("order writer failed on a batch")
                for _command, future in batch:
                    if not future.done():
                        future.set_exception(Unavailable(NOT_COMMITTED))

    def _run(self, batch: list[tuple[Any, Future[Any]]]) -> None:
        commands = [(c, f) for c, f in batch if isinstance(c, ORDER_COMMANDS)]
        for fn, future in batch:
            if not isinstance(fn, ORDER_COMMANDS):
                _resolve(future, fn, self.books.by_token)
        if commands:
            self._commit(commands)

    def _commit(self, commands: list[tuple[Command, Future[Any]]]) -> None:
        group = None
        conn = self._conn
        try:
            with conn.begin():
                group = OrderGroup(conn, self.books, self.limits, self.treasury, self.clock)
                group.prepare([command for command, _ in commands])
                outcomes = [group.run(command) for command, _ in commands]
                group.flush()
                flushed = time.perf_counter()
            commit_seconds = time.perf_counter() - flushed  # mostly the database's WAL flush
        except Exception as exc:  # a failed commit: memory must follow the database again
            if conn.invalidated or conn.closed:
                self._conn = self._connect()
            if group is not None:
                self.books.restore(group)
            self._failed(commands, exc)
            return
        self.books.apply(group)
        for (_, future), outcome in zip(commands, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        try:
            self.publish(group_report(group, self.books.by_token) | {
                "size": len(commands), "commit": commit_seconds})
        except Exception:  # market data must never stop the order path
            log.exception("publishing a committed group failed")

    def _failed(self, commands: list[tuple[Command, Future[Any]]], exc: Exception) -> None:
        """A group that did not commit: an outage fails it; else its halves are tried apart
        until the command at fault is alone, and refused."""
        if is_outage(exc):
            error = database_error(exc)
            log.warning("order group failed: %s", error)
            for _, future in commands:
                future.set_exception(error)
            return
        if len(commands) > 1:
            middle = len(commands) // 2
            self._commit(commands[:middle])
            self._commit(commands[middle:])
            return
        commands[0][1].set_exception(_refusal(exc))


def _refusal(exc: Exception) -> AlefError:
    """The answer to the one command a commit failed on: its own fault (a value the database
    refused) is 422; anything else is logged and answered 503 without the database's text."""
    if is_refused_value(exc):
        log.warning("the database refused a value of an order: %s", database_error(exc))
        return InvalidInput("a value in the order is out of the range the platform can store")
    log.error("order command failed to commit", exc_info=exc)
    return Unavailable(NOT_COMMITTED)


def _resolve(future: Future[Any], fn: Callable[[Mapping[Any, Any]], Any], books: Mapping[Any, Any]) -> None:
    try:
        future.set_result(fn(books))
    except Exception as exc:  # reported to the caller, not raised in the writer
        future.set_exception(exc)
