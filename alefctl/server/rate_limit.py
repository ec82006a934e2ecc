"""Per-user rate limits: a request over its user's rate is refused with 429 `rate_limited` and
Retry-After, counted in metrics (alef_rate_limited_total), before its route runs.

The buckets are in the database, so that every server process draws from the same ones
(workflows/rate_limits.py). RateLimiter takes the tokens of the requests that arrive while one
take runs in the next one, in one statement, as the key cache batches its lookups; a bucket
that came back empty is refused here, without the database, until it holds a token again, so a
flood of requests costs about one statement per token its bucket earns, not one per request.
If the database cannot be asked, requests go through (their routes meet the outage anyway),
and so do the next ones for a second, without asking.
A refusal is answered after a short pause (settings.ratelimit.refusal_pause_s): a client that
sends again at once waits for it, so a flood on a few connections is slowed to a few requests a
second each instead of costing the server a refusal for every request it can send.

RateLimit is the ASGI wrapper in front of the order fast path and FastAPI (app.AlefAPI): order
entry (POST, DELETE, PATCH and PUT on /api/v1/orders... and /api/v1/otc...) draws from the
`orders` budget, every other /api/v1 request from `reads`; each WebSocket message from `reads`
too (routes/stream.py, message_refusal). A request without a valid key goes on to its route,
which answers 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from alefctl.errors import AlefError
from alefctl.jsonfmt import json_text
from alefctl.redact import get_logger
from alefctl.server.auth import bearer_actor
from alefctl.server.problems import problem
from alefctl.workflows.rate_limits import Limits, Taken, take_tokens

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from alefctl.server.metrics import Metrics
    from alefctl.server.state import ServerState

API_PREFIX = "/api/v1/"
ORDER_ENTRY_PREFIXES = ("/api/v1/orders", "/api/v1/otc")
ORDER_ENTRY_METHODS = ("POST", "DELETE", "PATCH", "PUT")
MAX_REMEMBERED = 10_000  # empty buckets remembered per process
UNCHECKED_AFTER_FAILURE_S = 1.0
log = get_logger("alefctl.server")

Bucket = tuple[uuid.UUID, str]


class RateLimiter:
    """One process's way to the shared buckets: batched takes, and the empty buckets it knows of."""

    def __init__(self, db: Engine, limits: Limits, metrics: Metrics, pause_s: float = 0.0) -> None:
        self.db, self.limits, self.metrics, self.pause_s = db, limits, metrics, pause_s
        self._empty_until: dict[Bucket, float] = {}  # monotonic time of the next token
        self._queued: list[tuple[Bucket, asyncio.Future[float | None]]] = []
        self._takes: asyncio.Task[None] | None = None
        # Its own connection, in autocommit: one round trip per take (a pooled transaction
        # added a ping, BEGIN and COMMIT). Takes run one at a time, so one connection serves.
        self._conn: Connection | None = None
        self._unchecked_until = 0.0  # after a failed take: requests go on unchecked till then

    async def refusal(self, user_id: uuid.UUID, budget: str) -> float | None:
        """None when the request may go on, else, after a pause (pause_s, at most the wait),
        the seconds until the user may try again (the refusal is counted). The pause keeps a
        client that sends again at once from costing the server a refusal per request: the
        next request on its connection waits for the answer."""
        wait = await self.wait(user_id, budget)
        if wait is not None and self.pause_s > 0:
            await asyncio.sleep(min(wait, self.pause_s))
        return wait

    async def wait(self, user_id: uuid.UUID, budget: str) -> float | None:
        """None when the request may go on, else the seconds until the user may try again (the
        refusal is counted)."""
        bucket = (user_id, budget)
        if self._unchecked_until and time.monotonic() < self._unchecked_until:
            return None
        until = self._empty_until.get(bucket)
        if until is not None:
            left = until - time.monotonic()
            if left > 0:
                self.metrics.rate_limited.labels(budget).inc()
                return left
            del self._empty_until[bucket]
        future = asyncio.get_running_loop().create_future()
        self._queued.append((bucket, future))
        if self._takes is None:
            self._takes = asyncio.ensure_future(self._take_queued())
        wait = await future
        if wait is not None:
            self.metrics.rate_limited.labels(budget).inc()
        return wait

    async def _take_queued(self) -> None:
        try:
            while self._queued:
                queued, self._queued = self._queued, []
                asked: dict[Bucket, int] = {}
                for bucket, _ in queued:
                    asked[bucket] = asked.get(bucket, 0) + 1
                started = time.monotonic()
                try:
                    taken = await asyncio.to_thread(self._take, asked)
                except Exception as exc:  # the database failed: let the requests meet it
                    log.warning("rate limits could not be checked: %r", exc)
                    taken = {}
                    # and the next ones for a moment, rather than each batch waiting for a
                    # connection that may take its whole connect timeout to fail
                    self._unchecked_until = time.monotonic() + UNCHECKED_AFTER_FAILURE_S
                self.metrics.rate_limit_check.observe(time.monotonic() - started)
                self._answer(queued, taken, started)
        finally:
            self._takes = None

    def _take(self, asked: dict[Bucket, int]) -> dict[Bucket, Taken]:
        if self._conn is None:
            self._conn = self.db.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return take_tokens(self._conn, asked, self.limits)
        except Exception:
            self.close()  # the next take connects again
            raise

    def close(self) -> None:
        """Close the limiter's connection (when the server stops)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection is gone anyway
                conn.close()

    def _answer(self, queued: list[tuple[Bucket, asyncio.Future[float | None]]],
                taken: dict[Bucket, Taken], started: float) -> None:
        remaining = {bucket: left.granted for bucket, left in taken.items()}
        for bucket, left in taken.items():
            wait = left.seconds_to_next()
            if wait > 0:
                self._remember_empty(bucket, started + wait)
        for bucket, future in queued:
            found = taken.get(bucket)  # None: the database failed
            if future.done():  # the client went away
                continue
            if found is None or remaining[bucket] > 0:
                remaining[bucket] = remaining.get(bucket, 1) - 1
                future.set_result(None)
            else:
                future.set_result(max(found.seconds_to_next(), 1e-3))

    def _remember_empty(self, bucket: Bucket, until: float) -> None:
        if len(self._empty_until) >= MAX_REMEMBERED:
            now = time.monotonic()
            self._empty_until = {key: at for key, at in self._empty_until.items() if at > now}
            if len(self._empty_until) >= MAX_REMEMBERED:
                self._empty_until.clear()
        self._empty_until[bucket] = until


def budget_of(method: str, path: str) -> str | None:
    """The budget an HTTP request draws from: `orders`, `reads`, or None (not the API)."""
    if not path.startswith(API_PREFIX):
        return None
    if method in ORDER_ENTRY_METHODS and path.startswith(ORDER_ENTRY_PREFIXES):
        return "orders"
    return "reads"


def retry_after(wait: float) -> int:
    """Whole seconds for Retry-After: the wait rounded up, at least 1."""
    return max(1, math.ceil(wait))


def refusal_detail(budget: str, wait: float) -> str:
    """The text of a refusal."""
    what = "order entry requests" if budget == "orders" else "requests"
    return f"too many {what}: retry after {retry_after(wait)} s"


class RateLimit:
    """ASGI wrapper answering 429 for an API request over its user's rate."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            budget = budget_of(scope["method"], scope["path"])
            state: ServerState | None = getattr(scope["app"].state, "server", None)
            limiter = None if state is None else state.rate_limiter
            if budget is not None and state is not None and limiter is not None:
                wait = await _wait(state, limiter, scope, budget)
                if wait is not None:
                    response = problem(429, "rate_limited", refusal_detail(budget, wait))
                    response.headers["Retry-After"] = str(retry_after(wait))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _wait(state: ServerState, limiter: RateLimiter, scope: Scope,
                budget: str) -> float | None:
    authorization = next((value.decode("latin-1") for name, value in scope["headers"]
                          if name == b"authorization"), "")
    try:
        actor = await bearer_actor(state, authorization)
    except AlefError:  # no valid key (401) or no database (503): the route says so
        return None
    return await limiter.refusal(actor.user_id, budget)


async def message_refusal(state: ServerState, user_id: uuid.UUID) -> str | None:
    """The `error` message refusing a WebSocket message over its user's rate, or None."""
    limiter = state.rate_limiter
    wait = None if limiter is None else await limiter.refusal(user_id, "reads")
    if wait is None:
        return None
    return json_text({"type": "error", "code": "rate_limited",
                      "detail": refusal_detail("reads", wait) + "; the message was ignored"})
