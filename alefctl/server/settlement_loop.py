"""The settlement processor inside `alefctl serve`: a background thread, off the event loop.
Each period it also fails the offerings that ended below their soft cap (offering_admin.py).

Every settings.server.settlement_interval_s it drains the settlement queue (the same workflow as
`alefctl settlement run`, so a cron run beside it is safe), runs the tokens' state jobs (pause and
compliance changes on their way on-chain, as `alefctl chain work` does) and sets the settlement
backlog gauge. It starts at once, so trades a previous process left 'processing' are recovered on
start. Disabled by settings.server.settlement_loop = false (ALEF_SERVER_SETTLEMENT_LOOP=false).
The chain is opened on first on-chain work (the server state's chain_opener, if set, replaces
open_chain) and closed on stop if the loop opened it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from alefctl.redact import get_logger

if TYPE_CHECKING:
    from alefctl.server.state import ServerState
    from chain import ChainClient

log = get_logger("alefctl.settlement")
STOP_TIMEOUT_S = 30.0


class SettlementLoop:
    """One thread running the settlement processor every interval until stopped."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        settings = state.settings
        self.interval = settings.server.settlement_interval_s
        self.batch_size = settings.server.settlement_batch_size
        self.settings = settings
        self.opener: Callable[[], ChainClient] | None = state.chain_opener
        self.client: ChainClient | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="settlement-loop", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to finish its batch and stop; close the chain it opened."""
        self.stopped.set()
        self.thread.join(STOP_TIMEOUT_S)
        if self.thread.is_alive():
            log.warning("settlement loop still busy after %ss; its trades resume on restart",
                        STOP_TIMEOUT_S)
        elif self.client is not None and self.opener is None:
            self.client.close()

    def tick(self) -> None:
        """One drain of the queue, then the backlog gauge; errors are logged, never raised."""
        from alefctl.workflows.settlement.queue import backlog
        from alefctl.workflows.settlement.runner import drain_settlement

        db = self.state.db
        try:
            report = drain_settlement(db, self._chain, batch_size=self.batch_size,
                                      stopping=self.stopped.is_set)
            if report.claimed or report.in_flight or report.chain_error:
                log.info("settlement: %s", report.summary())
        except Exception:
            log.exception("settlement run failed; retrying next period")
        self._token_state_jobs()
        try:
            with db.connect() as conn:
                self.state.metrics.settlement_backlog.set(backlog(conn))
        except Exception:
            log.exception("settlement backlog not measured")
        self._fail_due_offerings()

    def _fail_due_offerings(self) -> None:
        """Offerings that ended below their soft cap fail and refund (as `offering fail-due`)."""
        from alefctl.workflows.offering_admin import fail_due_offerings
        from alefctl.workflows.service import service_actor

        try:
            with self.state.db.begin() as conn:
                actor = service_actor(conn)
            for failed in fail_due_offerings(self.state.db, actor):
                log.info("offering %s failed below its soft cap; refunded",
                         failed["token"]["symbol"])
        except Exception:
            log.exception("failing offerings below their soft cap; retrying next period")

    def _token_state_jobs(self) -> None:
        from alefctl.workflows.onchain.token_state import has_pending_jobs, run_token_state_jobs

        try:
            if has_pending_jobs(self.state.db):  # the chain is opened only for work
                report = run_token_state_jobs(self.state.db, self._chain())
                log.info("token state jobs: %s", report.to_dict())
        except Exception:
            log.exception("token state jobs failed; retrying next period")

    def _chain(self) -> ChainClient:
        if self.client is None:
            if self.opener is not None:
                self.client = self.opener()
            else:
                from alefctl.chain_access import open_chain

                self.client = open_chain(self.settings)
        return self.client

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.interval)


def start_settlement_loop(state: ServerState) -> None:
    """Start the loop unless settings.server.settlement_loop is false; kept in the state."""
    if state.settings.server.settlement_loop:
        state.settlement_loop = SettlementLoop(state)
        state.settlement_loop.start()


def stop_settlement_loop(state: ServerState) -> None:
    """Stop the loop if it runs."""
    if state.settlement_loop is not None:
        state.settlement_loop.stop()
