"""Per-token settlement locks: PostgreSQL session advisory locks on one connection of a runner.

The lock of a token is held from claiming its trades until their transfer is resolved, so one
runner at a time sends or recovers a token's transfers; it is released when the runner's
session ends, however it ends, which is what lets another runner recover after a crash.
`reconcile` takes the same lock (waiting for it) to read a token while no transfer moves it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

from alefctl.db import locks
from alefctl.errors import Unavailable


def lock_key(token_id: uuid.UUID) -> locks.AdvisoryKey:
    """The settlement lock of a token."""
    return locks.token_key(locks.SETTLEMENT_CLASS, token_id)


class TokenLocks:
    """The token locks held by one runner, on its own connection (not used for anything else)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.held: set[uuid.UUID] = set()

    def acquire(self, token_id: uuid.UUID) -> bool:
        """Take a token's lock if no one holds it."""
        if token_id in self.held:
            return True
        got = locks.try_lock(self.conn, lock_key(token_id))
        self.conn.commit()
        if got:
            self.held.add(token_id)
        return bool(got)

    def wait(self, token_id: uuid.UUID, timeout_s: float) -> None:
        """Take a token's lock, waiting up to timeout_s for its holder to finish."""
        try:
            # Local to this transaction; the session-level advisory lock outlives its commit.
            self.conn.execute(text("SELECT set_config('lock_timeout', :t, true)"),
                              {"t": f"{int(timeout_s * 1000)}ms"})
            locks.lock(self.conn, lock_key(token_id))
        except Exception as error:
            self.conn.rollback()
            raise Unavailable(f"the token is being settled; lock not free within {timeout_s:g}s"
                              ) from error
        self.conn.commit()
        self.held.add(token_id)

    def check(self, token_id: uuid.UUID) -> None:
        """Raise unless this session still holds the token's lock (checked before a broadcast)."""
        held = locks.is_held(self.conn, lock_key(token_id), by_this_session=True)
        self.conn.commit()
        if not held:
            raise Unavailable("the settlement lock of the token was lost; nothing broadcast")

    def release(self, token_id: uuid.UUID) -> None:
        """Let another runner have the token."""
        if token_id in self.held:
            self.held.discard(token_id)
            locks.unlock(self.conn, lock_key(token_id))
            self.conn.commit()

    def release_all(self) -> None:
        """Release every lock; if that fails, drop the session so the server releases them."""
        try:
            for token_id in list(self.held):
                self.release(token_id)
        except Exception:  # noqa: BLE001 - a pooled session must never keep a token's lock
            self.held.clear()
            self.conn.invalidate()
