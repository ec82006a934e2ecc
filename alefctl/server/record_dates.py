"""Record dates inside `alefctl serve`: a background thread that snapshots the holders of every
declared dividend whose record date has passed (the same workflow as `alefctl dividend
snapshot-due`, so a cron run beside it is safe), every settings.dividends.snapshot_interval_s,
as the server's service identity (workflows/service.py)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from alefctl.redact import get_logger

if TYPE_CHECKING:
    from alefctl.server.state import ServerState

log = get_logger("alefctl.record_dates")


class RecordDateLoop:
    """One thread taking due record-date snapshots every interval until stopped."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.interval = state.settings.dividends.snapshot_interval_s
        self.grace = timedelta(seconds=state.settings.dividends.snapshot_grace_s)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="record-dates", daemon=True)

    def stop(self) -> None:
        """Ask the thread to stop after its current snapshot."""
        self.stopped.set()
        self.thread.join(30.0)

    def tick(self) -> None:
        """One pass; errors are logged, never raised."""
        from alefctl.workflows.dividends.snapshot import take_due_snapshots
        from alefctl.workflows.service import service_actor

        try:
            with self.state.db.begin() as conn:
                actor = service_actor(conn)
            run = take_due_snapshots(self.state.db, actor, self.grace)
            for taken in run.taken:
                log.info("record-date snapshot of dividend %s: %s holders",
                         taken["dividend_id"], taken["holder_count"])
        except Exception:
            log.exception("record-date snapshots failed; retrying next period")

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.interval)


def start_record_date_loop(state: ServerState) -> RecordDateLoop:
    """Start the loop and return it (stop it on shutdown)."""
    loop = RecordDateLoop(state)
    loop.thread.start()
    return loop
