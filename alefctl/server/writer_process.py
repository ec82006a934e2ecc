"""The order writer in a process of its own, with the interface of OrderWriter (writer.Writer).

In one process the writer's matching and database round trips share the GIL with the HTTP
event loop, and under load each waits for the other; in its own process the writer has a core
to itself. The server sends commands and calls through a pipe and gets outcomes and group
reports back; the child owns the books, its database connections and the books' advisory lock.
If the child dies, every waiting command fails with 503 and new ones are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from alefctl.errors import AlefError, Unavailable
from alefctl.redact import get_logger

if TYPE_CHECKING:
    from alefctl.server.writer import Command

log = get_logger("alefctl.writer")
START_TIMEOUT_S = 120


class WriterProcess:
    """Commands and calls go to the writer process; `publish` gets its group reports here."""

    def __init__(self, settings: Any, publish: Callable[[Any], None], *, grouped: bool = True,
                 max_group: int = 256):
        self.settings = settings
        self.publish = publish
        self.options = {"grouped": grouped, "max_group": max_group}
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._send_lock = threading.Lock()
        self._alive = False
        # Requests made on the event loop's thread leave in one pipe write per loop turn: each
        # write wakes the writer process, and a wake-up costs more than the request (see _request).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._outgoing: list[tuple[str, int, Any]] = []

    def start(self) -> None:
        """Start the child and wait until it owns and has loaded the books."""
        context = multiprocessing.get_context("spawn")  # forking a threaded server is unsafe
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=_child, args=(self.settings, child_end, self.options),
                                        name="alefctl-order-writer", daemon=True)
        self._process.start()
        child_end.close()
        if not self._pipe.poll(START_TIMEOUT_S):
            self._process.kill()
            raise Unavailable("the order writer process did not start")
        started = self._pipe.recv()
        if started[0] != "ready":
            self._process.join(timeout=10)
            raise started[1]
        self._alive = True
        with contextlib.suppress(RuntimeError):  # started outside an event loop: no batching
            self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        self._reader = threading.Thread(target=self._read, name="order-writer-pipe", daemon=True)
        self._reader.start()

    def stop(self) -> None:
        """Let the child finish its queued commands and stop."""
        if self._alive:
            self._send([*self._outgoing, None])
            self._outgoing = []
        self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.kill()
        self._reader.join(timeout=5)
        self._pipe.close()

    def submit(self, command: Command) -> Future[Any]:
        """Queue an order command; the Future resolves after its group commits."""
        return self._request("command", command)

    def call(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run fn(books, *args) where the books are; fn must be a module-level function."""
        return self._request("call", (fn, args))

    def depth(self) -> int:
        """Commands and calls sent and not yet answered."""
        return len(self._pending)

    def _request(self, kind: str, payload: Any) -> Future[Any]:
        """Register the request and send it: from the event loop's thread with the other requests
        of this loop turn (the first one schedules the send, which runs right after the turn's
        other callbacks), from any other thread at once."""
        future: Future[Any] = Future()
        request_id = next(self._ids)
        self._pending[request_id] = future
        if self._loop is not None and threading.get_ident() == self._loop_thread:
            self._outgoing.append((kind, request_id, payload))
            if len(self._outgoing) == 1:
                self._loop.call_soon(self._send_outgoing)
        else:
            self._send_requests([(kind, request_id, payload)])
        return future

    def _send_outgoing(self) -> None:
        requests, self._outgoing = self._outgoing, []
        if requests:  # stop() may have sent them already
            self._send_requests(requests)

    def _send_requests(self, requests: list[tuple[str, int, Any]]) -> None:
        try:
            self._send(requests)
        except (OSError, ValueError) as exc:  # the pipe is gone: the child died
            for _kind, request_id, _payload in requests:
                future = self._pending.pop(request_id, None)
                if future is not None:
                    future.set_exception(Unavailable(f"the order writer is not running: {exc}"))

    def _take(self, message: tuple) -> None:
        if message[0] == "report":
            try:
                self.publish(message[1])
            except Exception:  # market data must never stop the order path
                log.exception("publishing a committed group failed")
            return
        _, request_id, ok, value = message
        future = self._pending.pop(request_id)
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _send(self, message: Any) -> None:
        if not self._alive:
            raise OSError("the order writer process has stopped")
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)  # lighter than Connection.send's pickler
        with self._send_lock:
            self._pipe.send_bytes(data)

    def _read(self) -> None:
        """Resolve futures and pass on reports until the child's end of the pipe closes."""
        while True:
            try:
                messages = self._pipe.recv()
            except (EOFError, OSError):
                break
            for message in messages:
                self._take(message)
        self._alive = False
        for future in list(self._pending.values()):
            future.set_exception(Unavailable("the order writer process stopped"))
        self._pending.clear()


def _child(settings: Any, pipe: Any, options: dict[str, Any]) -> None:
    """The writer process: run an OrderWriter and answer the server through the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops it, after its requests
    sys.setswitchinterval(0.0005)  # as in the server: the thread sending answers waits less
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    from alefctl.db import connect
    from alefctl.server.runtime import quiet_garbage_collector
    from alefctl.server.writer import OrderWriter
    from alefctl.workflows.protections import ProtectionDefaults
    from alefctl.workflows.trading.funds import NotionalLimits

    outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_batches, args=(outbox, pipe), daemon=True)
    sender.start()
    send = outbox.put

    db = connect(settings)
    writer = OrderWriter(db, NotionalLimits.from_settings(settings.trading, settings.lifetime),
                         lambda report: send(("report", report)), **options,
                         protections=ProtectionDefaults.from_settings(settings.protections))
    try:
        writer.start()
    except Exception as exc:
        pipe.send(("failed", exc if isinstance(exc, AlefError) else Unavailable(str(exc))))
        return
    quiet_garbage_collector()
    pipe.send(("ready",))
    while True:
        try:
            message = pipe.recv()  # a list of requests (WriterProcess._request)
        except (EOFError, OSError):  # the server is gone
            break
        if _take_requests(writer, message, send):
            break
    writer.stop()
    outbox.put(None)
    sender.join(timeout=10)
    db.dispose()


def _take_requests(writer: Any, requests: list[Any], send: Callable[[Any], None]) -> bool:
    """Queue the requests of one pipe message in the writer; True when told to stop."""
    for request in requests:
        if request is None:
            return True
        kind, request_id, payload = request
        future = writer.submit(payload) if kind == "command" else writer.call(payload[0], *payload[1])
        future.add_done_callback(lambda done, request_id=request_id: _answer(send, request_id, done))
    return False


def _send_batches(outbox: queue.SimpleQueue[Any], pipe: Any) -> None:
    """Send what is waiting as one message: a group's outcomes and report cross together, and
    the server wakes once for them, not once per order."""
    while True:
        batch = [outbox.get()]
        while not outbox.empty():
            batch.append(outbox.get())
        done = batch[-1] is None
        if done:
            batch.pop()
        if batch:
            _send_batch(pipe, batch)
        if done:
            return


def _answer(send: Callable[[Any], None], request_id: int, future: Future[Any]) -> None:
    """Send a command's outcome back (the sender turns what cannot cross the pipe into a 503)."""
    error = future.exception()
    if error is None:
        send(("done", request_id, True, future.result()))
        return
    if not isinstance(error, AlefError):
        log.error("order command %s failed: %r", request_id, error)
        from alefctl.server.writer import NOT_COMMITTED

        error = Unavailable(NOT_COMMITTED)
    send(("done", request_id, False, error))


def _send_batch(pipe: Any, batch: list[Any]) -> None:
    try:
        pipe.send_bytes(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):  # a bug; every caller must still get an answer
        for message in batch:
            try:
                pipe.send([message])
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                log.error("cannot send %s back to the server: %r", message[0], exc)
                if message[0] == "done":
                    pipe.send([("done", message[1], False,
                                Unavailable(f"order processing failed: {exc}"))])
