"""The settlement processor (spec): pending trades settle off-chain, or on-chain in batches.

One run (`run_settlement`), safe to start from any number of processes at once:
1. Recovery first: trades left 'processing' by a run that died are resolved by asking the chain
   about their recorded hash (transfers.resolve): mined -> settled; reverted or never
   reached the chain -> the attempt failed; still in the node -> left alone, and that token
   sends nothing new this run.
2. Claim: up to batch_size pending trades with settlement_attempts < 5, oldest first,
   FOR UPDATE SKIP LOCKED. The off-chain fallback (no contract address, or the buyer's or
   seller's wallet missing) settles them at once, settlement_type 'off_chain'. On-chain trades
   move to 'processing' only for tokens whose settlement lock this runner holds; the others stay
   pending for the runner that holds it.
3. Send: one checked forcedTransfer / batchForcedTransfer per token (transfers.py).

Two runners never claim the same trade (SKIP LOCKED, then 'processing'), and a token's lock
(settlement/locks.py) is held from claim to receipt, so a runner's recovery never touches a transfer
another live runner is about to broadcast. Every transition is in trade_settlement_history.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from alefctl.errors import AlefError, Unavailable
from alefctl.ids import new_id
from alefctl.workflows.actor import Actor
from alefctl.workflows.service import service_actor
from alefctl.workflows.settlement.locks import TokenLocks
from alefctl.workflows.settlement.queue import (
    DEFAULT_BATCH_SIZE,
    SettlementJob,
    claim_pending,
    move,
    processing_groups,
)
from alefctl.workflows.settlement.report import SettlementReport
from alefctl.workflows.settlement.transfers import TokenRun, resolve, settle_jobs

if TYPE_CHECKING:
    from chain import ChainClient


class _Chain:
    """The chain client, opened on first need when given as an opener (which keeps ownership)."""

    def __init__(self, source: ChainClient | Callable[[], ChainClient]) -> None:
        self.source = source
        self.client: ChainClient | None = None if callable(source) else source

    def get(self, report: SettlementReport) -> ChainClient | None:
        import chain

        if self.client is None and report.chain_error is None and callable(self.source):
            try:
                self.client = self.source()
            except (AlefError, chain.ChainError) as error:
                report.chain_error = str(error)
        return self.client

    def require(self) -> ChainClient:
        """The client already opened (on-chain work is only claimed once it is)."""
        if self.client is None:
            raise Unavailable("the chain is not open")
        return self.client


_MOVES = ("settled_off_chain", "settled_on_chain", "retrying", "failed", "in_flight", "requeued",
          "transactions")


def drain_settlement(db: Engine, client: ChainClient | Callable[[], ChainClient], *,
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     stopping: Callable[[], bool] = lambda: False,
                     actor: Actor | None = None) -> SettlementReport:
    """Run batch after batch until the queue is empty (or `stopping()`); each trade tried once."""
    total = SettlementReport()
    while True:
        report = run_settlement(db, client, batch_size=batch_size, exclude=total.claimed_ids,
                                actor=actor)
        total.add(report)
        if report.claimed < batch_size or report.chain_error or stopping():
            return total


def run_settlement(db: Engine, client: ChainClient | Callable[[], ChainClient], *,
                   batch_size: int = DEFAULT_BATCH_SIZE,
                   exclude: set[uuid.UUID] | None = None,
                   actor: Actor | None = None) -> SettlementReport:
    """Recover, claim up to batch_size pending trades (but `exclude`) and settle them. A run
    that did anything is audited (`settlement.run`, its counts and trades) as `actor`: the
    operator of `alefctl settlement run`, else the service identity (workflows/service.py)."""
    report = SettlementReport()
    chain = _Chain(client)
    try:
        with db.connect() as lock_conn:
            locks = TokenLocks(lock_conn)
            try:
                waiting = _recover(db, chain, locks, report)
                claimed = _claim(db, chain, locks, report, batch_size, waiting, exclude or set())
                for token_id, jobs in claimed.items():
                    run = TokenRun(db, chain.require(), report,
                                   functools.partial(locks.check, token_id))
                    try:
                        settle_jobs(run, jobs)
                    finally:
                        locks.release(token_id)
            finally:
                locks.release_all()
    except BaseException:
        with contextlib.suppress(Exception):  # the run's own error is the one to raise
            _audit_run(db, actor, report, interrupted=True)
        raise
    _audit_run(db, actor, report)
    return report


def _audit_run(db: Engine, actor: Actor | None, report: SettlementReport, *,
               interrupted: bool = False) -> None:
    """One audit row for a run that moved any trade (a run that only deferred trades, as every
    few seconds while the chain is down, moved nothing and writes none)."""
    counts = report.to_dict()
    if not any(counts[name] for name in _MOVES):
        return
    with db.begin() as conn:
        acting = actor or service_actor(conn)
        acting.audit(conn, "settlement.run", "settlement_run", new_id(), after={
            **counts, "interrupted": interrupted,
            "trades": sorted(str(trade_id) for trade_id in report.claimed_ids)})


def _recover(db: Engine, chain: _Chain, locks: TokenLocks,
             report: SettlementReport) -> set[uuid.UUID]:
    """Resolve trades left 'processing'; returns the tokens not to send for in this run."""
    with db.connect() as conn:
        tokens = list(dict.fromkeys(group.token_id for group in processing_groups(conn)))
    waiting: set[uuid.UUID] = set()
    for token_id in tokens:
        if not locks.acquire(token_id):
            waiting.add(token_id)  # its live runner is on it
            continue
        try:
            client = chain.get(report)
            if client is None:
                waiting.add(token_id)
                continue
            with db.connect() as conn:  # afresh, under the lock: the owner may have finished
                groups = processing_groups(conn, token_id)
            before = report.in_flight
            run = TokenRun(db, client, report, lambda: None)
            for group in groups:
                resolve(run, list(group.ids), group.tx_hash)
            if report.in_flight > before:
                waiting.add(token_id)
        finally:
            locks.release(token_id)
    return waiting


def _claim(db: Engine, chain: _Chain, locks: TokenLocks, report: SettlementReport,
           batch_size: int, waiting: set[uuid.UUID],
           exclude: set[uuid.UUID]) -> dict[uuid.UUID, list[SettlementJob]]:
    """Claim a batch: settle the off-chain ones, move the on-chain ones of locked tokens along."""
    claimed: dict[uuid.UUID, list[SettlementJob]] = defaultdict(list)
    with db.begin() as conn:
        jobs = claim_pending(conn, batch_size, list(exclude))
        report.claimed = len(jobs)
        report.claimed_ids = {job.id for job in jobs}
        off_chain = [job.id for job in jobs if not job.on_chain]
        report.settled_off_chain += len(move(conn, off_chain, "settle_off_chain"))
        on_chain = [job for job in jobs if job.on_chain]
        usable = bool(on_chain) and chain.get(report) is not None
        for job in on_chain:
            if usable and job.token_id not in waiting and locks.acquire(job.token_id):
                claimed[job.token_id].append(job)
            else:
                report.deferred += 1
        move(conn, [job.id for jobs_ in claimed.values() for job in jobs_], "claim")
    return claimed
