"""Bearer API keys: who is calling, with a short cache so the order path skips the database."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Request

from alefctl.errors import PermissionDenied
from alefctl.workflows.actor import Actor

CACHE_SECONDS = 5.0  # a revoked key stops working within this time


class KeyCache:
    """Recently authenticated keys; entries expire so revocation takes effect quickly."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Actor]] = {}

    def actor_for(self, request: Request, secret: str) -> Actor:
        """The actor of a key, from the cache or the database."""
        now = time.monotonic()
        cached = self._entries.get(secret)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        from alefctl.workflows.api_keys import authenticate

        with request.app.state.db.begin() as conn:
            actor = authenticate(conn, secret, "api")
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[secret] = (now, actor)
        return actor


def current_actor(request: Request) -> Actor:
    """FastAPI dependency: the authenticated caller, or 401 problem."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise PermissionDenied("missing bearer API key (Authorization: Bearer alef_...)",
                               code="unauthenticated")
    return request.app.state.key_cache.actor_for(request, secret.strip())


def role(*roles: str) -> Callable[[Request], Actor]:
    """FastAPI dependency factory: the caller, who must have one of the roles."""

    def dependency(request: Request) -> Actor:
        actor = current_actor(request)
        actor.require(*roles)
        return actor

    return dependency
