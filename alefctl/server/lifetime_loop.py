"""The order lifetime loop inside `alefctl serve`: a background thread, off the event loop.

Every settings.lifetime.expiry_interval_s it reads what is due (GTD and DAY orders past their
expire_at, dead-man's switches past their deadline: workflows/trading/expiry.py), hands the
cancels to the order writer like any other (so their owners' private streams hear of them),
waits for them, then disarms the switches that fired. What is due lives in the database, so a
restarted server catches up on its first pass.
"""

from __future__ import annotations

import threading
from concurrent.futures import wait
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from alefctl.errors import Conflict, NotFound
from alefctl.redact import get_logger
from alefctl.workflows.service import service_actor
from alefctl.workflows.trading.expiry import due_cancels
from alefctl.workflows.trading.lifetime import disarm_fired

if TYPE_CHECKING:
    from alefctl.server.state import ServerState

log = get_logger("alefctl.lifetime")
WAIT_S = 30.0


class LifetimeLoop:
    """One thread expiring orders and firing switches every interval until stopped."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.interval = state.settings.lifetime.expiry_interval_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lifetime-loop", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self.stopped.set()
        self.thread.join(WAIT_S)

    def tick(self) -> None:
        """One pass; errors are logged and the next pass tries again."""
        db, writer = self.state.db, self.state.writer
        try:
            with db.begin() as conn:
                due = due_cancels(conn, service_actor(conn), datetime.now(UTC))
            futures = [writer.submit(command) for command in due.commands]
            wait(futures, WAIT_S)
            failed = [f for f in futures if not f.done() or (
                f.exception() is not None and not isinstance(f.exception(), Conflict | NotFound))]
            if failed:  # the switches stay armed: the next pass cancels what is left
                log.warning("order lifetime: %d of %d cancels failed", len(failed), len(futures))
                return
            with db.begin() as conn:
                for user_id, deadline in due.switches:
                    disarm_fired(conn, user_id, deadline)
        except Exception:
            log.exception("order lifetime pass failed; retrying next period")

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.interval)


def start_lifetime_loop(state: ServerState) -> None:
    """Start the loop; kept in the state."""
    state.lifetime_loop = LifetimeLoop(state)
    state.lifetime_loop.start()


def stop_lifetime_loop(state: ServerState) -> None:
    """Stop the loop if it runs."""
    if state.lifetime_loop is not None:
        state.lifetime_loop.stop()
