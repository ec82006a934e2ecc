"""Webhook deliveries inside `alefctl serve`: a background thread draining the outbox every
settings.webhooks.interval_s (the same workflow as `alefctl notification deliver-webhooks`, so a cron run
beside it is safe: a subscription is served by one runner at a time). Off when
settings.webhooks.deliver_loop is false."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from alefctl.redact import get_logger

if TYPE_CHECKING:
    from alefctl.server.state import ServerState

log = get_logger("alefctl.webhooks")


class WebhookLoop:
    """One thread delivering due webhooks every interval until stopped."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.settings = state.settings.webhooks
        self.stopped = threading.Event()
        self.warned: set[str] = set()  # problems logged already (not again every period)
        self.thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def stop(self) -> None:
        """Ask the thread to stop after its current attempt."""
        self.stopped.set()
        self.thread.join(self.settings.timeout_s + 5)

    def tick(self) -> None:
        """One drain; errors are logged, never raised."""
        from alefctl.workflows.webhooks.delivery import deliver_due

        try:
            report = deliver_due(self.state.db, self.settings, self.state.cipher,
                                 stopping=self.stopped.is_set)
            if report.delivered or report.failed:
                log.info("webhooks: %s", report.to_dict())
            problems = set(report.problems())
            for problem in sorted(problems - self.warned):
                log.warning("webhooks: %s", problem)
            self.warned = problems
        except Exception:
            log.exception("webhook deliveries failed; retrying next period")

    def _run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.settings.interval_s)


def start_webhook_loop(state: ServerState) -> WebhookLoop | None:
    """Start the loop unless switched off; stop the returned loop on shutdown."""
    if not state.settings.webhooks.deliver_loop:
        return None
    loop = WebhookLoop(state)
    loop.thread.start()
    return loop
