"""`alefctl worker`: every background job of the platform, without the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    command_errors,
    info,
    job_result,
    requires,
    state,
)


@command_errors
@requires("worker.run")
def worker(once: Annotated[bool, typer.Option("--once", help="One pass, then exit (cron).")] = False,
           interval: Annotated[float | None, typer.Option(
               help="Seconds between passes (default: server.settlement_interval_s).")] = None,
           as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Run every background chain job as `alefctl serve` does, without the HTTP API (for
    deployments that run workers apart): maturity of tokens past their date, offerings failed
    below their soft cap, mints (identities, allocations, token dividends), burns of refunded
    allocations, token state, agent operations, settlement. Each job kind has its own lock, so
    this beside `serve` or a cron command never does a job twice.

    Exit code 0 when the pass ran and no job failed; 1 when a job failed (naming it); 6 when the
    database or chain is unreachable. Without --once the loop reports failures and goes on.
    """
    import time

    from alefctl.workflows.onchain.worker import JobContext

    settings = state.settings()
    chain = _LazyChain(settings)
    context = JobContext(state.engine(), chain.get, state.actor(), settings)
    pause = settings.server.settlement_interval_s if interval is None else interval
    try:
        while True:
            _one_pass(context, once=once, as_json=as_json, quiet=quiet)
            if once:
                return
            time.sleep(pause)
    finally:
        chain.close()


def _one_pass(context: Any, *, once: bool, as_json: bool, quiet: bool) -> None:
    """One pass over the jobs, reported. One pass (cron): a job's error ends it with its exit
    code. A loop reports the error and goes on."""
    import functools

    from alefctl.workflows.onchain.worker import run_jobs

    failures: list[str] = []
    report = run_jobs(context, on_error=None if once else lambda job, error: (
        failures.append(f"{job} failed: {error}")))
    problems = failures + report.problems
    lines = "\n".join([_summary(report.jobs), *problems])
    job_result({"jobs": report.jobs, "problems": problems}, as_json=as_json, quiet=quiet,
               problems=problems, render=functools.partial(info, lines), final=once)


def _summary(jobs: dict[str, dict[str, Any]]) -> str:
    if not jobs:
        return "nothing to do"
    return "; ".join(f"{name}: " + ", ".join(f"{key} {value}" for key, value in counts.items()
                                            if isinstance(value, int | list) and value)
                     for name, counts in jobs.items())


class _LazyChain:
    """The chain, opened by the first job that has work, closed at the end."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.client: Any = None

    def get(self) -> Any:
        if self.client is None:
            from alefctl.chain_access import open_chain

            self.client = open_chain(self.settings)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
