"""On-chain minting (spec step 8): register each holder's identity, then mint, exactly once.

Two kinds of mint job: confirmed token allocations, and paid token-dividend payments (the
dividend's tokens are new tokens: they are minted to the holder, never taken from the issuer).

Claimed allocations go pending -> minting in one committed step. The mint's hash and nonce are
written before the transaction is broadcast (chain `on_signed`), so after any crash the worker
asks the chain about every 'minting' allocation before it sends anything: mined and succeeded
-> minted; mined and reverted -> failed; still pending -> left alone; unknown to the node (or
never signed) -> back to pending, which cannot double-mint because that transaction can never
be mined. Allocations of one token go in one batchMint; a batch that reverts is retried one
allocation at a time, so one bad wallet fails alone. One worker at a time (advisory lock).
"""

from __future__ import annotations

import contextlib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.redact import mask_secrets
from alefctl.workflows import policy
from alefctl.workflows.onchain.jobs import (
    JobReport,
    audit_run,
    country_numeric,
    record_outcome,
    register_wallets,
    tx_outcome,
)
from alefctl.workflows.onchain.journal import record_receipt, record_sent

if TYPE_CHECKING:
    from chain import ChainClient, SentTransaction

HOLDER_COLUMNS = (
    "u.wallet_address, u.country, t.contract_address, t.identity_registry_addr, t.decimals,"
    " (SELECT k.nationality FROM kyc_applications k WHERE k.user_id = u.id AND k.status ="
    " 'approved' ORDER BY k.reviewed_at DESC LIMIT 1) AS nationality")


@dataclass(frozen=True)
class MintSource:
    """A table of mint jobs: its claim query and what its rows can record."""

    table: str
    reference_type: str
    claim_sql: Any
    has_attempts: bool  # on_chain_attempts and updated_at columns


ALLOCATIONS = MintSource("token_allocations", "token_allocation", text(
    f"SELECT a.id, a.token_id, a.quantity, {HOLDER_COLUMNS} FROM token_allocations a"
    " JOIN users u ON u.id = a.user_id JOIN tokens t ON t.id = a.token_id"
    " WHERE a.status = 'confirmed' AND a.on_chain_status = 'pending'"
    " AND t.contract_address IS NOT NULL ORDER BY a.created_at, a.id LIMIT :limit"
    " FOR UPDATE OF a SKIP LOCKED"), has_attempts=True)
DIVIDENDS = MintSource("dividend_payments", "dividend_payment", text(
    f"SELECT p.id, d.token_id, p.token_quantity AS quantity, {HOLDER_COLUMNS}"
    " FROM dividend_payments p JOIN dividend_declarations d ON d.id = p.dividend_id"
    " JOIN users u ON u.id = p.user_id JOIN tokens t ON t.id = d.token_id"
    " WHERE d.dividend_type = 'token' AND p.status = 'paid' AND p.on_chain_status = 'pending'"
    " AND t.contract_address IS NOT NULL ORDER BY p.paid_at, p.id LIMIT :limit"
    " FOR UPDATE OF p SKIP LOCKED"), has_attempts=False)
SOURCES = (ALLOCATIONS, DIVIDENDS)


@dataclass
class MintReport(JobReport):
    """What one run of the worker did; its failures: {"job" (token_allocation,
    dividend_payment), "id", "error"}."""

    minted: int = 0

    def failed_jobs(self, source: MintSource, ids: list[uuid.UUID], error: str | None) -> None:
        """Count jobs that failed, and keep which and why."""
        for job_id in ids:
            self.failed_job(job=source.reference_type, id=job_id,
                            error=mask_secrets(error or "reverted"))


def run_mint_jobs(db: Engine, client: ChainClient, *, limit: int = 100,
                  actor: Any = None) -> MintReport:
    """Recover in-flight mints, then mint up to `limit` jobs of each kind. A run that minted,
    failed or re-queued anything is audited (`mint.run`, its counts) as `actor`, the operator of
    `alefctl chain work`, else the service identity (workflows/service.py)."""
    with locks.worker_lock(db, locks.MINT_WORKER) as held:
        if not held:
            return MintReport(busy=True)
        report = MintReport()
        try:
            for source in SOURCES:
                _run_source(db, client, source, limit, report)
        except BaseException:
            with contextlib.suppress(Exception):  # the run's own error is the one to raise
                _audit_run(db, actor, report)
            raise
    _audit_run(db, actor, report)
    return report


def _audit_run(db: Engine, actor: Any, report: MintReport) -> None:
    audit_run(db, actor, "mint.run", "mint_run", report.to_dict(), did_something=bool(
        report.minted or report.failed or report.in_flight or report.requeued))


def _run_source(db: Engine, client: ChainClient, source: MintSource, limit: int,
                report: MintReport) -> None:
    _recover(db, client, source, report)
    with db.begin() as conn:
        jobs = [dict(row._mapping) for row in conn.execute(source.claim_sql, {"limit": limit})]
        _set_status(conn, source, [j["id"] for j in jobs], "minting", attempt=True)
    by_token: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for job in jobs:
        by_token[job["token_id"]].append(job)
    for token_jobs in by_token.values():
        _mint(db, client, source, token_jobs, report)


def retry_failed(conn: Connection, actor: Any, allocation_ids: list[uuid.UUID] | None) -> int:
    """Put failed mints back in the queue (admins only); returns how many."""
    policy.require(actor, "mint.retry")
    rows = conn.execute(text(
        "UPDATE token_allocations SET on_chain_status = 'pending', on_chain_error = NULL,"
        " updated_at = now() WHERE on_chain_status = 'failed' AND status = 'confirmed'"
        " AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(:ids)) RETURNING id"),
        {"ids": allocation_ids}).scalars().all()
    for allocation_id in rows:
        actor.audit(conn, "allocation.retry_mint", "token_allocation", allocation_id,
                    before={"on_chain_status": "failed"}, after={"on_chain_status": "pending"})
    return len(rows)


def _mint(db: Engine, client: ChainClient, source: MintSource, jobs: list[dict[str, Any]],
          report: MintReport) -> None:
    import chain
    from alefctl.chain_access import chain_errors

    ready = [job for job in jobs if job["wallet_address"]]
    _fail(db, source, [j for j in jobs if not j["wallet_address"]], "holder has no wallet address",
          report)
    try:
        with chain_errors():
            ready = _register_identities(db, client, source, ready, report)
            if not ready:
                return
            sent = client.send(_mint_call(ready),
                               on_signed=lambda s: _record(db, source, ready, s))
            receipt = client.wait(sent)
    except Exception as error:
        cause = error.__cause__
        if isinstance(cause, chain.ContractRevert | chain.GasCapExceeded) and len(ready) > 1:
            for job in ready:  # a reverted batch minted nothing: try each alone
                _mint(db, client, source, [job], report)
            return
        if isinstance(cause, chain.ContractRevert | chain.GasCapExceeded):
            if getattr(cause, "receipt", None) is not None:
                with db.begin() as conn:
                    record_receipt(conn, cause.receipt)
            _fail(db, source, ready, str(cause), report)
            return
        _requeue_unsent(db, source, ready, report)  # unreachable node: hashes kept if signed
        return
    with db.begin() as conn:
        record_receipt(conn, receipt)
        _set_status(conn, source, [j["id"] for j in ready], "minted")
    report.minted += len(ready)


def _register_identities(db: Engine, client: ChainClient, source: MintSource,
                         jobs: list[dict[str, Any]], report: MintReport) -> list[dict[str, Any]]:
    """Register every wallet once (idempotent on-chain); a refused wallet fails its jobs."""
    countries = {job["wallet_address"]: country_numeric(job.get("country"), job.get("nationality"))
                 for job in jobs}
    refused = register_wallets(db, client, jobs[0]["token_id"],
                               jobs[0]["identity_registry_addr"], countries) if jobs else {}
    for wallet, reason in refused.items():
        _fail(db, source, [j for j in jobs if j["wallet_address"] == wallet], reason, report)
    return [job for job in jobs if job["wallet_address"] not in refused]


def _mint_call(jobs: list[dict[str, Any]]) -> Any:
    from chain import calls

    token = jobs[0]["contract_address"]
    amounts = [job["quantity"] * 10 ** job["decimals"] for job in jobs]
    if len(jobs) == 1:
        return calls.mint(token, jobs[0]["wallet_address"], amounts[0])
    return calls.batch_mint(token, [job["wallet_address"] for job in jobs], amounts)


def _record(db: Engine, source: MintSource, jobs: list[dict[str, Any]],
            sent: SentTransaction) -> None:
    with db.begin() as conn:
        conn.execute(text(f"UPDATE {source.table} SET on_chain_tx_hash = :h, on_chain_nonce = :n"
                          " WHERE id = ANY(:ids)"),
                     {"h": sent.tx_hash, "n": sent.nonce, "ids": [j["id"] for j in jobs]})
        record_sent(conn, jobs[0]["token_id"], "mint", sent, (source.reference_type, jobs[0]["id"]))


def _recover(db: Engine, client: ChainClient, source: MintSource, report: MintReport) -> None:
    with db.begin() as conn:
        in_flight = conn.execute(text(
            f"SELECT on_chain_tx_hash AS tx_hash, array_agg(id) AS ids FROM {source.table}"
            " WHERE on_chain_status = 'minting' GROUP BY on_chain_tx_hash")).all()
    for row in in_flight:
        outcome = tx_outcome(client, row.tx_hash)
        with db.begin() as conn:
            record_outcome(conn, row.tx_hash, outcome)
            if outcome.kind == "succeeded":
                _set_status(conn, source, row.ids, "minted")
                report.minted += len(row.ids)
            elif outcome.kind == "reverted":
                _set_status(conn, source, row.ids, "failed", error=outcome.error)
                report.failed_jobs(source, row.ids, outcome.error)
            elif outcome.kind == "in_flight":
                report.in_flight += len(row.ids)
            else:
                _set_status(conn, source, row.ids, "pending")
                report.requeued += len(row.ids)


def _requeue_unsent(db: Engine, source: MintSource, jobs: list[dict[str, Any]],
                    report: MintReport) -> None:
    with db.begin() as conn:
        conn.execute(text(f"UPDATE {source.table} SET on_chain_status = 'pending' WHERE"
                          " id = ANY(:ids) AND on_chain_tx_hash IS NULL"),
                     {"ids": [j["id"] for j in jobs]})
    report.requeued += len(jobs)


def _fail(db: Engine, source: MintSource, jobs: list[dict[str, Any]], error: str,
          report: MintReport) -> None:
    if jobs:
        with db.begin() as conn:
            _set_status(conn, source, [j["id"] for j in jobs], "failed", error=error)
        report.failed_jobs(source, [j["id"] for j in jobs], error)


def _set_status(conn: Connection, source: MintSource, ids: list[uuid.UUID], status: str, *,
                error: str | None = None, attempt: bool = False) -> None:
    if not ids:
        return
    changes = "on_chain_status = :s, on_chain_error = :e"
    if source.has_attempts:
        changes += ", updated_at = now()"
    if attempt:
        changes += ", on_chain_tx_hash = NULL, on_chain_nonce = NULL"
        if source.has_attempts:
            changes += ", on_chain_attempts = on_chain_attempts + 1"
    # Stored without credentials: a chain error quotes the node's URL.
    conn.execute(text(f"UPDATE {source.table} SET {changes} WHERE id = ANY(:ids)"),
                 {"s": status, "e": None if error is None else mask_secrets(error), "ids": ids})
