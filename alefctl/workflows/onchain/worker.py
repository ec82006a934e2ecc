"""Every background chain job of the platform, in ONE list, run in order by `alefctl serve`,
`alefctl worker` and (the on-chain ones) `alefctl chain work`.

The order is the order of dependencies within one pass: tokens past their maturity date are
matured first (their state job then pauses them on-chain) and offerings ended below their soft
cap are failed (their allocations refunded, then burned); allocations and token dividends are
minted (identities registered first) before settlement, so a trade made right after go-live
settles in the same pass; burns, token state and agent operations follow. Each job keeps its
own advisory lock (db/locks.py), so two runners never do the same job twice; a busy job is
skipped by the second runner. The chain is opened only when a job has work (`pending`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from alefctl.workflows.settlement.queue import MAX_ATTEMPTS

if TYPE_CHECKING:
    from alefctl.settings import Settings
    from alefctl.workflows.actor import Actor
    from chain import ChainClient


@dataclass
class JobContext:
    """What a job needs: the database, the chain (opened on first use), who acts, settings."""

    db: Engine
    chain: Callable[[], ChainClient]
    actor: Actor
    settings: Settings
    stopping: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class ChainJob:
    """One kind of background job: its name, the cron command that runs it alone, its run."""

    name: str
    cron: str
    run: Callable[[JobContext], tuple[dict[str, Any], list[str]]]
    pending_sql: str | None = None  # EXISTS query: whether the job has work (None: always run)


@dataclass
class WorkReport:
    """What one pass of the jobs did: each job's report and the problems to show."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _maturity(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.workflows.lifecycle import mature_due
    from alefctl.workflows.trading.funds import NotionalLimits

    matured = mature_due(ctx.db, ctx.actor, NotionalLimits.from_settings(ctx.settings.trading))
    return {"matured": [token.symbol for token in matured]}, []


def _failed_offerings(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.workflows.offering_admin import fail_due_offerings

    failed, problems = fail_due_offerings(ctx.db, ctx.actor)
    return {"failed_offerings": [item["token"]["symbol"] for item in failed]}, problems


def _mints(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.workflows.onchain.minting import run_mint_jobs

    report = run_mint_jobs(ctx.db, ctx.chain(), actor=ctx.actor)
    return report.to_dict(), [f"mint of {f['job']} {f['id']} failed: {f['error']}"
                              for f in report.failures]


def _burns(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.workflows.onchain.burning import run_burn_jobs

    report = run_burn_jobs(ctx.db, ctx.chain())
    problems = ([f"{report.failed} burns of refunded allocations failed; retried next pass"
                 " (`alefctl allocation list --on-chain minted`)"] if report.failed else [])
    return {"burned": report.burned, "burn_failed": report.failed}, problems


def _token_state(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.workflows.onchain.token_state import run_token_state_jobs

    report = run_token_state_jobs(ctx.db, ctx.chain(), actor=ctx.actor)
    return report.to_dict(), [f"token state job {f['job']} failed: {f['error']}"
                              for f in report.failures]


def _agent_operations(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.chain_access import chain_errors
    from alefctl.workflows.holders.jobs import run_agent_jobs

    with chain_errors():
        report = run_agent_jobs(ctx.db, ctx.chain(), actor=ctx.actor)
    return report.to_dict(), [f"agent operation {f['kind']} {f['id']} failed: {f['error']}"
                              for f in report.failures]


def _settlement(ctx: JobContext) -> tuple[dict[str, Any], list[str]]:
    from alefctl.workflows.settlement.runner import drain_settlement

    report = drain_settlement(ctx.db, ctx.chain, batch_size=ctx.settings.server.settlement_batch_size,
                              stopping=ctx.stopping)
    return report.to_dict(), [f"settlement of trade {f['trade_id']}: {f['error']}"
                              for f in report.failures]


DEPLOYED = "JOIN tokens t ON t.id = {alias}.token_id AND t.contract_address IS NOT NULL"
JOBS: tuple[ChainJob, ...] = (
    ChainJob("maturity", "token mature-due", _maturity),
    ChainJob("failed_offerings", "offering fail-due", _failed_offerings),
    ChainJob("mints", "chain work", _mints, pending_sql=(
        "SELECT EXISTS (SELECT 1 FROM token_allocations a " + DEPLOYED.format(alias="a") +
        " WHERE a.status = 'confirmed' AND a.on_chain_status IN ('pending', 'minting'))"
        " OR EXISTS (SELECT 1 FROM dividend_payments p JOIN dividend_declarations d"
        " ON d.id = p.dividend_id " + DEPLOYED.format(alias="d") +
        " WHERE d.dividend_type = 'token' AND p.status = 'paid'"
        " AND p.on_chain_status IN ('pending', 'minting'))")),
    ChainJob("burns", "chain work", _burns, pending_sql=(
        "SELECT EXISTS (SELECT 1 FROM token_allocations a " + DEPLOYED.format(alias="a") +
        " WHERE a.status = 'refunded' AND a.on_chain_status IN ('minted', 'burning'))")),
    ChainJob("token_state", "chain work", _token_state, pending_sql=(
        "SELECT EXISTS (SELECT 1 FROM token_chain_jobs j " + DEPLOYED.format(alias="j") +
        " WHERE j.status IN ('pending', 'sending'))")),
    ChainJob("agent_operations", "chain work", _agent_operations, pending_sql=(
        "SELECT EXISTS (SELECT 1 FROM agent_operations o " + DEPLOYED.format(alias="o") +
        " WHERE o.chain_status IN ('pending', 'sending'))")),
    ChainJob("settlement", "settlement run", _settlement, pending_sql=(
        "SELECT EXISTS (SELECT 1 FROM trades WHERE settlement_status IN ('pending', 'processing')"
        f" AND settlement_attempts < {MAX_ATTEMPTS})")),
)


def has_work(db: Engine, job: ChainJob) -> bool:
    """Whether a job has anything to do (a job without a query always runs)."""
    if job.pending_sql is None:
        return True
    with db.connect() as conn:
        return bool(conn.execute(text(job.pending_sql)).scalar())


def run_jobs(ctx: JobContext, *, cron: str | None = None, skip_idle: bool = True,
             on_error: Callable[[str, Exception], None] | None = None) -> WorkReport:
    """One pass over JOBS (only those of a cron command when `cron` is given), in order. With
    `skip_idle` a job that has no work is skipped without touching the chain. With `on_error`
    a job's error is handed to it and the pass goes on (a server's loop); else it is raised."""
    report = WorkReport()
    for job in JOBS:
        if (cron is not None and job.cron != cron) or ctx.stopping():
            continue
        try:
            if skip_idle and not has_work(ctx.db, job):
                continue
            report.jobs[job.name], problems = job.run(ctx)
        except Exception as error:
            if on_error is None:
                raise
            on_error(job.name, error)
            continue
        report.problems += problems
    return report
