"""The on-chain side of settlement: check, send one batchForcedTransfer per token, resolve.

All trades handled here are 'processing' and their token's settlement lock is held by this
runner (runner.py), so nobody else sends or resolves transfers of that token meanwhile.

- Before sending, every seller's free balance (balanceOf - frozen) must cover what it gives, in
  batch order (a buyer's receipt counts for a later sale): a forcedTransfer would otherwise
  unfreeze tokens an admin froze. A seller whose whole wallet is frozen is refused too. A
  refused trade fails this attempt with the reason; the rest of the batch goes on.
- Buyers' wallets are registered in the identity registry first (once; compliance requires it).
- The hash and nonce are committed before broadcast. A batch that reverts is retried trade by
  trade (each checked again), so one bad trade fails alone.
- An error after the hash was recorded never re-queues blindly: the chain is asked what became
  of the transaction (onchain/jobs.tx_outcome); unsure (node unreachable, timeout) -> left
  'processing' for the next run's recovery.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from alefctl.redact import mask_secrets
from alefctl.workflows.onchain.jobs import record_outcome, register_wallets, tx_outcome
from alefctl.workflows.onchain.journal import record_receipt
from alefctl.workflows.settlement.queue import SettlementJob, move, record_transaction
from alefctl.workflows.settlement.report import SettlementReport

if TYPE_CHECKING:
    from chain import ChainClient, SentTransaction


@dataclass
class TokenRun:
    """One token's work in a run: the chain, the database and a guard run before each broadcast."""

    db: Engine
    client: ChainClient
    report: SettlementReport
    still_locked: Callable[[], None]
    incoming: dict[str, str] = field(default_factory=dict)  # seller wallet -> what it waits for


def settle_jobs(run: TokenRun, jobs: list[SettlementJob]) -> None:
    """Check, then send the jobs of one token in one transfer, and record what happened."""
    import chain

    jobs = _checked(run, jobs)
    if not jobs:
        return
    recorded: list[SentTransaction] = []

    def on_signed(sent: SentTransaction) -> None:
        run.still_locked()
        with run.db.begin() as conn:
            record_transaction(conn, jobs, sent)
        recorded.append(sent)

    try:
        sent = run.client.send(_transfer_call(jobs), on_signed=on_signed)
    except (chain.ContractRevert, chain.GasCapExceeded) as refused:  # estimation: nothing sent
        _refused(run, jobs, str(refused))
        return
    except chain.ChainError as error:
        if recorded:
            resolve(run, [job.id for job in jobs], recorded[-1].tx_hash, str(error))
        else:
            _retry_later(run, jobs, str(error), counted=not _transient(error))
        return
    run.report.transactions += 1
    try:
        receipt = run.client.wait(sent)
    except chain.ContractRevert as reverted:  # mined and failed: the gas was spent
        if reverted.receipt is not None:
            with run.db.begin() as conn:
                record_receipt(conn, reverted.receipt)
        _refused(run, jobs, str(reverted))
        return
    except chain.ChainError:  # timeout or node gone while waiting: the next run asks the chain
        run.report.in_flight += len(jobs)
        return
    with run.db.begin() as conn:
        record_receipt(conn, receipt)
        settled = move(conn, [job.id for job in jobs], "settle_on_chain", tx_hash=receipt.tx_hash)
    run.report.settled_on_chain += len(settled)


def resolve(run: TokenRun, trade_ids: list[uuid.UUID], tx_hash: str | None,
            error: str | None = None) -> None:
    """Settle, fail or re-queue 'processing' trades by what the chain says of their hash."""
    import chain

    try:
        outcome = tx_outcome(run.client, tx_hash)
    except chain.ChainError:
        run.report.in_flight += len(trade_ids)
        return
    with run.db.begin() as conn:
        record_outcome(conn, tx_hash, outcome)
        if outcome.kind == "succeeded":
            run.report.settled_on_chain += len(
                move(conn, trade_ids, "settle_on_chain", tx_hash=tx_hash))
        elif outcome.kind == "in_flight":
            run.report.in_flight += len(trade_ids)
        else:
            reason = outcome.error or error or (
                f"transaction {tx_hash} never reached the chain; re-queued" if tx_hash else
                "the settlement run stopped before sending; re-queued")
            _count(run.report, move(conn, trade_ids, "retry_later", error=reason, counted=True),
                   reason)


def _checked(run: TokenRun, jobs: list[SettlementJob]) -> list[SettlementJob]:
    """The jobs whose sellers' free balances cover them, with buyers registered; others fail an
    attempt, but those whose seller still has tokens coming on-chain wait (uncounted)."""
    import chain

    try:
        refusals, short = _free_balance_refusals(run.client, jobs)
        ready = [job for job in jobs if job.id not in refusals]
        registry = jobs[0].identity_registry_addr
        buyers = {job.buyer_wallet or "": job.buyer_country_code for job in ready}
        refused_wallets = register_wallets(run.db, run.client, jobs[0].token_id, registry,
                                           buyers) if registry else {}
    except (chain.ChainUnavailable, chain.TransactionTimeout) as unreachable:
        _retry_later(run, jobs, str(unreachable), counted=False)
        return []
    except Exception as error:  # noqa: BLE001 - unreadable balances: never send blind
        _retry_later(run, jobs, f"could not check the on-chain balances: {error}", counted=True)
        return []
    for job in ready:
        if job.buyer_wallet in refused_wallets:
            refusals[job.id] = refused_wallets[job.buyer_wallet]
    waiting = _waiting_for_tokens(run, jobs, short)
    if waiting:  # early, not failed: re-queued without counting an attempt
        _retry_later(run, waiting, _waiting_reason(run, waiting), counted=False)
        for job in waiting:
            refusals.pop(job.id)
    waiting_ids = {job.id for job in waiting}
    by_reason: dict[str, list[SettlementJob]] = defaultdict(list)
    for job in jobs:
        if job.id in refusals:
            by_reason[refusals[job.id]].append(job)
    for reason, refused in by_reason.items():
        _retry_later(run, refused, reason, counted=True)
    return [job for job in jobs if job.id not in refusals and job.id not in waiting_ids]


def _free_balance_refusals(client: ChainClient, jobs: list[SettlementJob]
                           ) -> tuple[dict[uuid.UUID, str], set[uuid.UUID]]:
    """Replay the batch on free balances; the trades a seller's free tokens do not cover (and,
    among them, those whose seller's wallet is not frozen: they may only be early)."""
    token = jobs[0].contract_address or ""
    free: dict[str, int] = {}
    frozen: dict[str, tuple[int, bool]] = {}
    received: dict[str, int] = defaultdict(int)
    refusals: dict[uuid.UUID, str] = {}
    short: set[uuid.UUID] = set()
    for job in jobs:
        seller, buyer = (job.seller_wallet or "").lower(), (job.buyer_wallet or "").lower()
        if seller not in free:
            frozen[seller] = (client.frozen_tokens(token, seller), client.is_frozen(token, seller))
            free[seller] = client.balance_of(token, seller) - frozen[seller][0] + received[seller]
        if frozen[seller][1]:
            refusals[job.id] = (f"seller's wallet {job.seller_wallet} is frozen on-chain;"
                                " unfreeze it to settle")
        elif free[seller] < job.amount_units:
            short.add(job.id)
            refusals[job.id] = _short_reason(job, free[seller], frozen[seller][0])
        else:
            free[seller] -= job.amount_units
            if buyer in free:
                free[buyer] += job.amount_units
            else:
                received[buyer] += job.amount_units
    return refusals, short


def _short_reason(job: SettlementJob, free_units: int, frozen_units: int) -> str:
    """Why a seller's tokens do not cover a sale: frozen tokens only when some are frozen."""
    have = f"seller's free on-chain balance {whole(free_units, job.decimals)} {job.symbol}"
    if frozen_units:
        return (f"{have} ({whole(frozen_units, job.decimals)} frozen) does not cover"
                f" {job.quantity}: a forced transfer would unfreeze frozen tokens")
    return (f"{have} does not cover {job.quantity}, and no mint or purchase of the seller's is"
            " pending: the books and the chain disagree (`alefctl reconcile`)")


def _waiting_for_tokens(run: TokenRun, jobs: list[SettlementJob],
                        short: set[uuid.UUID]) -> list[SettlementJob]:
    """The short trades whose seller still has tokens coming on-chain: not failures, early."""
    from alefctl.workflows.settlement.waiting import incoming_tokens

    early = [job for job in jobs if job.id in short]
    if not early:
        return []
    with run.db.connect() as conn:
        run.incoming = incoming_tokens(conn, early[0].token_id,
                                       [job.seller_wallet or "" for job in early],
                                       [job.id for job in jobs])
    return [job for job in early if (job.seller_wallet or "").lower() in run.incoming]


def _waiting_reason(run: TokenRun, jobs: list[SettlementJob]) -> str:
    sellers = sorted({(job.seller_wallet or "").lower() for job in jobs})
    return "waiting for the seller's tokens to reach the chain (" + "; ".join(
        f"{wallet}: {run.incoming[wallet]}" for wallet in sellers) + "); not counted as an attempt"


def whole(units: int, decimals: int) -> str:
    """Base units as whole tokens, exactly (e.g. '12.5')."""
    value = (Decimal(units) / 10 ** decimals).normalize()
    return format(value, "f")


def _refused(run: TokenRun, jobs: list[SettlementJob], reason: str) -> None:
    """The contract refused the transfer: one trade fails this attempt; a batch splits."""
    if len(jobs) > 1:
        for job in jobs:
            settle_jobs(run, [job])
        return
    _retry_later(run, jobs, reason, counted=True)


def _retry_later(run: TokenRun, jobs: list[SettlementJob], error: str, *, counted: bool) -> None:
    with run.db.begin() as conn:
        moved = move(conn, [job.id for job in jobs], "retry_later", error=error, counted=counted)
    if counted:
        _count(run.report, moved, error)
    else:
        run.report.requeued += len(moved)


def _count(report: SettlementReport, moved: dict[uuid.UUID, str], error: str) -> None:
    for trade_id, status in moved.items():
        report.failures.append({"trade_id": trade_id, "status": status,
                                "error": mask_secrets(error)})
        if status == "failed":
            report.failed += 1
        else:
            report.retrying += 1


def _transient(error: Exception) -> bool:
    import chain

    return isinstance(error, chain.ChainUnavailable | chain.TransactionTimeout)


def _transfer_call(jobs: list[SettlementJob]) -> Any:
    from chain import calls

    token = jobs[0].contract_address or ""
    if len(jobs) == 1:
        job = jobs[0]
        return calls.forced_transfer(token, job.seller_wallet or "", job.buyer_wallet or "",
                                     job.amount_units)
    return calls.batch_forced_transfer(token, [job.seller_wallet or "" for job in jobs],
                                       [job.buyer_wallet or "" for job in jobs],
                                       [job.amount_units for job in jobs])
