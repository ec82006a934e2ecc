"""Bearer API keys: who is calling, with a short cache so the order path skips the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from alefctl.errors import PermissionDenied, Unavailable
from alefctl.redact import get_logger
from alefctl.server.state import ServerState, server_state
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.api_keys import authenticate_keys, invalid_key

CACHE_SECONDS = 5.0  # a revoked key stops working within this time
REFRESH_SECONDS = 4.0  # a key in use is looked up again in the background after this time
MAX_ENTRIES = 10_000
log = get_logger("alefctl.server")


class KeyCache:
    """Recently authenticated keys; entries expire so revocation takes effect quickly.

    A key in use is looked up again in the background before its entry expires. Lookups are
    batched: the keys asked for while a lookup runs go together in the next one, one database
    transaction for all of them, and callers asking for the same key share its answer. Each key
    looked up on its own cost a transaction with a commit; the keys of a busy server, first used
    within a second, came due together every few seconds, and their commits stalled every order
    in flight for 100-250 ms."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Actor]] = {}
        # Keys asked for and not yet answered (on the event loop), each to be answered with its
        # Actor, None (not a valid key) or the lookup's failure; the keys not yet in a running
        # lookup wait in _queued.
        self._lookups: dict[str, asyncio.Future[Actor | Exception | None]] = {}
        self._queued: list[str] = []
        self._batches: asyncio.Task[None] | None = None

    async def actor(self, db: Any, secret: str) -> Actor:
        """The actor of a key, from the cache or the next batched lookup (on the event loop)."""
        entry = self._entries.get(secret)
        if entry is not None:
            age = time.monotonic() - entry[0]
            if age < CACHE_SECONDS:
                if age >= REFRESH_SECONDS:
                    self._lookup(db, secret)
                return entry[1]
        found = await asyncio.shield(self._lookup(db, secret))
        if isinstance(found, Actor):
            return found
        # A new exception for each caller: one shared object would collect every caller's frames.
        if found is None:
            raise invalid_key()
        raise Unavailable(f"API keys cannot be checked now: {found}")

    def _lookup(self, db: Any, secret: str) -> asyncio.Future[Actor | Exception | None]:
        future = self._lookups.get(secret)
        if future is None:
            future = self._lookups[secret] = asyncio.get_running_loop().create_future()
            self._queued.append(secret)
            if self._batches is None:
                self._batches = asyncio.ensure_future(self._look_up_queued(db))
        return future

    async def _look_up_queued(self, db: Any) -> None:
        """Look up the queued keys, a batch at a time, until none is left."""
        try:
            while self._queued:
                secrets, self._queued = self._queued, []
                started = time.monotonic()
                try:
                    actors: dict[str, Actor] | Exception = await asyncio.to_thread(
                        _authenticate, db, secrets)
                except Exception as exc:  # the database failed: those callers get a 503
                    log.warning("looking up %d API keys failed: %r", len(secrets), exc)
                    actors = exc
                for secret in secrets:
                    self._answer(secret, started, actors)
        finally:
            self._batches = None

    def _answer(self, secret: str, started: float, actors: dict[str, Actor] | Exception) -> None:
        found = actors if isinstance(actors, Exception) else actors.get(secret)
        if not isinstance(found, Actor):  # e.g. revoked: refuse from now on
            self._entries.pop(secret, None)
        else:
            if len(self._entries) > MAX_ENTRIES:
                self._entries.clear()
            self._entries[secret] = (started, found)
        self._lookups.pop(secret).set_result(found)


def _authenticate(db: Any, secrets: list[str]) -> dict[str, Actor]:
    with db.begin() as conn:
        return authenticate_keys(conn, secrets, "api")


async def bearer_actor(state: ServerState, authorization: str) -> Actor:
    """The caller of an Authorization header, or 401 problem (cache hits stay on the loop)."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise PermissionDenied("missing bearer API key (Authorization: Bearer alef_...)",
                               code="unauthenticated")
    return await state.key_cache.actor(state.db, secret)


async def current_actor(request: Request) -> Actor:
    """FastAPI dependency: the authenticated caller, or 401 problem."""
    return await bearer_actor(server_state(request), request.headers.get("authorization", ""))


def acting(action: str) -> Callable[[Request], Awaitable[Actor]]:
    """FastAPI dependency factory: the caller, whose role the policy allows for the action
    (workflows/policy.py); the action is kept on the dependency for the authorization tests."""

    async def dependency(request: Request) -> Actor:
        actor = await current_actor(request)
        policy.require(actor, action)
        return actor

    dependency.alef_action = action  # type: ignore[attr-defined]
    return dependency
