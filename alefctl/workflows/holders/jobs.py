"""The on-chain part of agent operations (agent_operations rows), run by `alefctl chain work`.

Each job's transaction is recorded (its hash on the row and in gas_transactions) when it is
signed, before it is broadcast; a worker that finds a job `sending` asks the chain about that
hash before it sends anything (workflows/onchain/jobs.py): mined -> done, reverted -> failed,
pending -> left alone, unknown -> pending again (it can never be mined, so nothing happens
twice). A recovery job checks the chain's state before each of its transactions
(recoveryAddress, or for a wallet without tokens: register the new wallet, delete the old), so
it resumes after a crash between any two of them. Jobs run in the order they were decided.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.redact import mask_secrets
from alefctl.workflows.holders.recovery import complete_recoveries
from alefctl.workflows.money import credit_tokens
from alefctl.workflows.onchain.jobs import (
    NATIONALITY_SQL,
    JobReport,
    audit_run,
    country_numeric,
    record_outcome,
    register_wallets,
    tx_outcome,
)
from alefctl.workflows.onchain.journal import record_receipt, record_sent

if TYPE_CHECKING:
    from chain import ChainClient
    from chain.calls import ContractCall

CLAIM = text(
    "SELECT o.id, o.kind, o.quantity, o.from_wallet, o.to_wallet, o.recovery_id, o.token_id,"
    " t.contract_address, t.identity_registry_addr, t.decimals, r.country AS to_country,"
    f" {NATIONALITY_SQL.format(user='r')} AS to_nationality FROM agent_operations o"
    " JOIN tokens t ON t.id = o.token_id LEFT JOIN users r ON r.id = o.to_user_id"
    " WHERE o.chain_status = 'pending' AND t.contract_address IS NOT NULL"
    " ORDER BY o.created_at, o.id LIMIT :limit FOR UPDATE OF o SKIP LOCKED")


class JobFailed(Exception):
    """The job cannot be done as it stands (the error is kept on the row for an admin)."""


@dataclass
class AgentJobReport(JobReport):
    """What one run of the worker did."""

    done: int = 0
    recoveries_completed: int = 0
    unavailable: bool = False


def run_agent_jobs(db: Engine, client: ChainClient, *, limit: int = 100,
                   actor: Any = None) -> AgentJobReport:
    """Resolve jobs in flight, run up to `limit` pending ones, then complete the recoveries whose
    tokens all moved. One worker at a time; a run that did anything is audited
    (`holder.jobs_run`) as `actor`, else the service identity."""
    with locks.worker_lock(db, locks.AGENT_WORKER) as held:
        if not held:
            return AgentJobReport(busy=True)
        report = AgentJobReport()
        try:
            _resolve_in_flight(db, client, report)
            _run_pending(db, client, limit, report)
            report.recoveries_completed = complete_recoveries(db, actor)
        finally:
            with contextlib.suppress(Exception):  # the run's own error is the one to raise
                _audit_run(db, actor, report)
    return report


def _run_pending(db: Engine, client: ChainClient, limit: int, report: AgentJobReport) -> None:
    import chain

    with db.begin() as conn:
        jobs = [dict(row._mapping) for row in conn.execute(CLAIM, {"limit": limit})]
        conn.execute(text(
            "UPDATE agent_operations SET chain_status = 'sending', attempts = attempts + 1,"
            " tx_hash = NULL, tx_nonce = NULL, updated_at = now() WHERE id = ANY(:ids)"),
            {"ids": [job["id"] for job in jobs]})
    for position, job in enumerate(jobs):
        try:
            _run_job(db, client, job)
        except (chain.ChainUnavailable, chain.TransactionTimeout):
            # Left `sending`: the next run asks the chain about what was signed, and re-queues
            # the rest (a job with no recorded hash is simply dropped back to pending).
            report.unavailable = True
            report.in_flight += len(jobs) - position
            return
        except (JobFailed, chain.ContractRevert, chain.GasCapExceeded) as error:
            receipt = getattr(error, "receipt", None)
            _finish(db, job["id"], "failed", str(error), receipt)
            report.failed_job(id=job["id"], kind=job["kind"], error=mask_secrets(str(error)))
            continue
        _finish(db, job["id"], "done")
        report.done += 1


def _run_job(db: Engine, client: ChainClient, job: dict[str, Any]) -> None:
    from chain import calls

    token, wallet = job["contract_address"], job["from_wallet"]
    if wallet is None:
        raise JobFailed("the holder has no wallet address")
    kind = job["kind"]
    if kind == "recover":
        _recover_token(db, client, job)
        return
    if job["quantity"] is None:  # freeze or unfreeze the whole wallet
        _send(db, client, job, calls.set_address_frozen(token, wallet, kind == "freeze"))
        return
    amount = int(job["quantity"]) * 10 ** job["decimals"]
    if kind == "freeze":
        _send(db, client, job, calls.freeze_partial_tokens(token, wallet, amount))
    elif kind == "unfreeze":
        _send(db, client, job, calls.unfreeze_partial_tokens(token, wallet, amount))
    elif kind == "burn":
        _send(db, client, job, calls.burn(token, wallet, amount))
    else:  # forced_transfer, withdraw (to the investor's outside wallet) or deposit (back to
        # the registered one, workflows/custody.py): the receiver must be registered first
        # (idempotent on-chain)
        if job["to_wallet"] is None:
            raise JobFailed("the receiver has no wallet address")
        country = country_numeric(job["to_country"], job["to_nationality"])
        refused = register_wallets(db, client, job["token_id"], job["identity_registry_addr"],
                                   {job["to_wallet"]: country})
        if refused:
            raise JobFailed(refused[job["to_wallet"]])
        _send(db, client, job, calls.forced_transfer(token, wallet, job["to_wallet"], amount))


def _recover_token(db: Engine, client: ChainClient, job: dict[str, Any]) -> None:
    """Move one token's balance, freeze state and registration from the lost wallet, each
    transaction sent only if the chain shows it still to do."""
    from chain import calls

    token, registry = job["contract_address"], job["identity_registry_addr"]
    old, new = job["from_wallet"], job["to_wallet"]
    identity = client.identity_of(registry, old)
    if client.balance_of(token, old) > 0:
        if identity is None:
            raise JobFailed(f"the lost wallet {old} holds tokens but has no registered identity")
        _send(db, client, job, calls.recover_wallet(token, old, new, identity))
        return
    if identity is not None:  # registered, holding nothing: move the registration alone
        if client.identity_of(registry, new) is None:
            country = client.investor_country(registry, old)
            _send(db, client, job, calls.register_identity(registry, new, country, identity))
        _send(db, client, job, calls.delete_identity(registry, old))
    if client.is_frozen(token, old) and not client.is_frozen(token, new):
        _send(db, client, job, calls.set_address_frozen(token, new, True))


def _send(db: Engine, client: ChainClient, job: dict[str, Any], call: ContractCall) -> None:
    """Send one transaction of a job, recorded before broadcast, and wait for it."""
    def record(sent: Any) -> None:
        with db.begin() as conn:
            conn.execute(text("UPDATE agent_operations SET tx_hash = :h, tx_nonce = :n,"
                              " updated_at = now() WHERE id = :id"),
                         {"h": sent.tx_hash, "n": sent.nonce, "id": job["id"]})
            record_sent(conn, job["token_id"], f"agent:{job['kind']}", sent,
                        ("agent_operation", job["id"]))

    receipt = client.wait(client.send(call, on_signed=record))
    with db.begin() as conn:
        record_receipt(conn, receipt)


def _resolve_in_flight(db: Engine, client: ChainClient, report: AgentJobReport) -> None:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT id, kind, tx_hash FROM agent_operations"
                                 " WHERE chain_status = 'sending'")).all()
    for row in rows:
        outcome = tx_outcome(client, row.tx_hash)
        with db.begin() as conn:
            record_outcome(conn, row.tx_hash, outcome)
        if outcome.kind == "in_flight":
            report.in_flight += 1
        elif outcome.kind == "reverted":
            _finish(db, row.id, "failed", outcome.error)
            report.failed_job(id=row.id, kind=row.kind,
                              error=mask_secrets(outcome.error or "reverted"))
        elif outcome.kind == "succeeded" and row.kind != "recover":
            _finish(db, row.id, "done")
            report.done += 1
        else:  # dropped, or a recovery step mined: the job (re)starts from what the chain shows
            _finish(db, row.id, "pending")
            report.requeued += 1


def _finish(db: Engine, job_id: uuid.UUID, status: str, error: str | None = None,
            receipt: Any = None) -> None:
    """Record a job's outcome; a deposit confirmed on-chain is credited to the books in the same
    transaction (once: a job already done is not updated again)."""
    with db.begin() as conn:
        if receipt is not None:
            record_receipt(conn, receipt)
        done = conn.execute(text(
            "UPDATE agent_operations SET chain_status = :s, chain_error = :e, updated_at = now()"
            " WHERE id = :id AND chain_status <> 'done' RETURNING kind, user_id, token_id, quantity"),
            {"s": status, "e": None if error is None else mask_secrets(error)[:2000],
             "id": job_id}).first()
        if status == "done" and done is not None and done.kind == "deposit":
            credit_tokens(conn, done.user_id, done.token_id, done.quantity)


def _audit_run(db: Engine, actor: Any, report: AgentJobReport) -> None:
    audit_run(db, actor, "holder.jobs_run", "agent_job_run", report.to_dict(), did_something=bool(
        report.done or report.failed or report.requeued or report.recoveries_completed))


def send_now(db: Engine, open_client: Callable[[], AbstractContextManager[ChainClient]], actor: Any,
             operation_id: uuid.UUID) -> tuple[dict[str, Any], str | None]:
    """Run the agent jobs once, right after an operation committed (a front end's convenience:
    the worker would send it later anyway); the operation as it stands then, and why it is still
    pending when the chain could not be reached."""
    from alefctl.chain_access import chain_errors
    from alefctl.errors import Unavailable
    from alefctl.workflows.holders.listing import get_operation

    unreachable = None
    try:
        with chain_errors(), open_client() as client:
            run_agent_jobs(db, client, actor=actor)
    except Unavailable as error:
        unreachable = error.message
    with db.begin() as conn:
        return get_operation(conn, actor, str(operation_id)), unreachable
