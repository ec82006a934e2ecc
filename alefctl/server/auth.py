"""Bearer API keys: who is calling, with a short cache so the order path skips the database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from alefctl.errors import PermissionDenied
from alefctl.workflows.actor import Actor

CACHE_SECONDS = 5.0  # a revoked key stops working within this time
REFRESH_SECONDS = 4.0  # a key in use is looked up again in the background after this time
MAX_ENTRIES = 10_000


class KeyCache:
    """Recently authenticated keys; entries expire so revocation takes effect quickly.

    A key in use is looked up again in the background before its entry expires, and callers
    that miss at the same moment share one lookup: without both, every key expired at once
    every few seconds and each of its waiting requests queued a database lookup (a stall of
    100-200 ms for all orders in flight under load)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Actor]] = {}
        self._lookups: dict[str, asyncio.Future[Actor]] = {}  # in flight, on the event loop

    async def actor(self, db: Any, secret: str) -> Actor:
        """The actor of a key, from the cache or one shared lookup (on the event loop)."""
        entry = self._entries.get(secret)
        if entry is not None:
            age = time.monotonic() - entry[0]
            if age < CACHE_SECONDS:
                if age >= REFRESH_SECONDS:
                    self._lookup(db, secret)
                return entry[1]
        return await asyncio.shield(self._lookup(db, secret))

    def _lookup(self, db: Any, secret: str) -> asyncio.Future[Actor]:
        future = self._lookups.get(secret)
        if future is None:
            started = time.monotonic()
            future = asyncio.ensure_future(asyncio.to_thread(_authenticate, db, secret))
            future.add_done_callback(lambda done: self._looked_up(secret, started, done))
            self._lookups[secret] = future
        return future

    def _looked_up(self, secret: str, started: float, future: asyncio.Future[Actor]) -> None:
        self._lookups.pop(secret, None)
        if future.cancelled() or future.exception() is not None:  # e.g. revoked: refuse from now
            self._entries.pop(secret, None)
        else:
            self._store(secret, started, future.result())

    def _store(self, secret: str, at: float, actor: Actor) -> None:
        if len(self._entries) > MAX_ENTRIES:
            self._entries.clear()
        self._entries[secret] = (at, actor)


def _authenticate(db: Any, secret: str) -> Actor:
    from alefctl.workflows.api_keys import authenticate

    with db.begin() as conn:
        return authenticate(conn, secret, "api")


async def bearer_actor(app: Any, authorization: str) -> Actor:
    """The caller of an Authorization header, or 401 problem (cache hits stay on the loop)."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise PermissionDenied("missing bearer API key (Authorization: Bearer alef_...)",
                               code="unauthenticated")
    return await app.state.key_cache.actor(app.state.db, secret)


async def current_actor(request: Request) -> Actor:
    """FastAPI dependency: the authenticated caller, or 401 problem."""
    return await bearer_actor(request.app, request.headers.get("authorization", ""))


def role(*roles: str) -> Callable[[Request], Awaitable[Actor]]:
    """FastAPI dependency factory: the caller, who must have one of the roles."""

    async def dependency(request: Request) -> Actor:
        actor = await current_actor(request)
        actor.require(*roles)
        return actor

    return dependency
