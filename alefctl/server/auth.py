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


class KeyCache:
    """Recently authenticated keys; entries expire so revocation takes effect quickly."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Actor]] = {}

    def cached(self, secret: str) -> Actor | None:
        """The actor of a key authenticated in the last few seconds, if any."""
        cached = self._entries.get(secret)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        return None

    def actor_for(self, db: Any, secret: str) -> Actor:
        """The actor of a key, from the cache or the database."""
        hit = self.cached(secret)
        if hit is not None:
            return hit
        now = time.monotonic()
        from alefctl.workflows.api_keys import authenticate

        with db.begin() as conn:
            actor = authenticate(conn, secret, "api")
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[secret] = (now, actor)
        return actor


async def bearer_actor(app: Any, authorization: str) -> Actor:
    """The caller of an Authorization header, or 401 problem (cache hits stay on the loop)."""
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise PermissionDenied("missing bearer API key (Authorization: Bearer alef_...)",
                               code="unauthenticated")
    cache: KeyCache = app.state.key_cache
    hit = cache.cached(secret)
    if hit is not None:
        return hit
    return await asyncio.to_thread(cache.actor_for, app.state.db, secret)


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
