"""The chain job loop inside `alefctl serve`: a background thread, off the event loop.

Every settings.server.settlement_interval_s it runs every chain job of the platform once, in the
order of workflows/onchain/worker.JOBS (`alefctl worker` runs the same list without a server):
maturity of tokens past their date, offerings failed below their soft cap, mints (identities,
allocations, token dividends), burns of refunded allocations, token state, agent operations and
settlement; the same workflows as the cron commands, each under its own advisory lock, so a cron
run beside it is safe. Then it sets the settlement backlog gauge. It starts at once, so trades a
previous process left 'processing' are recovered on start. Disabled by
settings.server.settlement_loop = false (ALEF_SERVER_SETTLEMENT_LOOP=false). The chain is opened
on first on-chain work (the server state's chain_opener, if set, replaces open_chain) and closed
on stop if the loop opened it.
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
        """One pass over every chain job (workflows/onchain/worker.py: maturity, mints, burns,
        token state, agent operations, settlement, offerings due to fail), then the backlog gauge;
        errors are logged, never raised."""
        from alefctl.workflows.settlement.queue import backlog

        db = self.state.db
        self.pass_jobs()
        try:
            with db.connect() as conn:
                self.state.metrics.settlement_backlog.set(backlog(conn))
        except Exception:
            log.exception("settlement backlog not measured")

    def pass_jobs(self) -> None:
        """Run the platform's chain jobs once, as the service identity."""
        from alefctl.workflows.onchain.worker import JobContext, run_jobs
        from alefctl.workflows.service import service_actor

        try:
            with self.state.db.begin() as conn:
                actor = service_actor(conn)
            context = JobContext(self.state.db, self._chain, actor, self.settings,
                                 stopping=self.stopped.is_set)
            report = run_jobs(context, on_error=_log_failure)
        except Exception:
            log.exception("chain jobs not run; retrying next period")
            return
        for name, counts in report.jobs.items():
            log.info("%s: %s", name, counts)
        for problem in report.problems:
            log.warning("%s", problem)

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


def _log_failure(job: str, error: Exception) -> None:
    log.error("%s failed (%s); retrying next period", job, error, exc_info=error)


def start_settlement_loop(state: ServerState) -> None:
    """Start the loop unless settings.server.settlement_loop is false; kept in the state."""
    if state.settings.server.settlement_loop:
        state.settlement_loop = SettlementLoop(state)
        state.settlement_loop.start()


def stop_settlement_loop(state: ServerState) -> None:
    """Stop the loop if it runs."""
    if state.settlement_loop is not None:
        state.settlement_loop.stop()
