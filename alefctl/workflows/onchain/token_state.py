"""Chain jobs that keep a token's on-chain state where the database says it is: paused or not
(its status), and its Compliance contract's rules (workflows/compliance.py).

A job is queued in the transaction that changed the database (`queue_job`). The worker
(`run_token_state_jobs`, run by `alefctl serve` and `alefctl chain work`) reads the desired
state when it runs, compares it with the chain and sends only what differs, so running a job
twice, or two jobs of one token, never does anything twice. Each transaction's hash is written
before broadcast; after a crash a job left 'sending' is resumed by asking the chain about that
hash (in flight: left alone; otherwise back to pending, and compared again). One worker at a
time (advisory lock); a job is claimed with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.ids import new_id
from alefctl.redact import mask_secrets
from alefctl.workflows.actor import Actor
from alefctl.workflows.onchain.jobs import JobReport, audit_run, record_outcome, tx_outcome
from alefctl.workflows.onchain.journal import record_receipt, record_sent

if TYPE_CHECKING:
    from chain import ChainClient, ContractCall, SentTransaction

# Statuses in which the token is paused on-chain: trading halted, or over for good.
PAUSED_STATUSES = ("paused", "matured", "delisted", "redeemed")
MAX_ATTEMPTS = 5
CLAIM_SQL = text(
    "SELECT j.id, j.token_id, j.kind FROM token_chain_jobs j JOIN tokens t ON t.id = j.token_id"
    " WHERE j.status = 'pending' AND t.contract_address IS NOT NULL"
    " ORDER BY j.created_at, j.id LIMIT :limit FOR UPDATE OF j SKIP LOCKED")


@dataclass(frozen=True)
class DesiredState:
    """What the database says the token's contracts should hold (amounts in base units)."""

    paused: bool
    denied_countries: frozenset[int]
    max_balance: int
    max_holders: int
    allowed_countries: frozenset[int] = frozenset()


@dataclass
class TokenStateReport(JobReport):
    """What one run of the worker did."""

    done: int = 0
    transactions: int = 0


def queue_job(conn: Connection, actor: Actor | None, token_id: uuid.UUID, kind: str) -> None:
    """Ask the worker to bring the token's on-chain `kind` ('status', 'compliance') in line."""
    conn.execute(text("INSERT INTO token_chain_jobs (id, token_id, kind, requested_by)"
                      " VALUES (:id, :t, :kind, :by)"),
                 {"id": new_id(), "t": token_id, "kind": kind,
                  "by": actor.user_id if actor is not None else None})


def desired_state(conn: Connection, token_id: uuid.UUID) -> DesiredState:
    """The token's on-chain state as the database has it."""
    from alefctl.workflows.compliance import get_rules

    status, decimals = conn.execute(text("SELECT status, decimals FROM tokens WHERE id = :t"),
                                    {"t": token_id}).one()
    rules = get_rules(conn, token_id)
    return DesiredState(status in PAUSED_STATUSES,
                        frozenset(_numeric(code) for code in rules.denied_countries),
                        (rules.max_balance or 0) * 10 ** decimals, rules.max_holders or 0,
                        frozenset(_numeric(code) for code in rules.allowed_countries))


def differences(client: ChainClient, token: str, desired: DesiredState) -> dict[str, Any]:
    """What differs on-chain from the desired state: {name: (on-chain, desired)}."""
    found: dict[str, Any] = {}
    if client.paused(token) != desired.paused:
        found["paused"] = (not desired.paused, desired.paused)
    if client.holder_transfers_open(token):
        found["holder_transfers_open"] = (True, False)
    unrestricted = sorted(c for c in desired.denied_countries
                          if not client.is_country_restricted(token, c))
    if unrestricted:
        found["denied_countries"] = ("not restricted", unrestricted)
    restricted = sorted(c for c in desired.allowed_countries
                        if client.is_country_restricted(token, c))
    if restricted:
        found["allowed_countries"] = ("restricted", restricted)
    if client.max_balance(token) != desired.max_balance:
        found["max_balance"] = (client.max_balance(token), desired.max_balance)
    if client.max_holders(token) != desired.max_holders:
        found["max_holders"] = (client.max_holders(token), desired.max_holders)
    return found


def calls_needed(client: ChainClient, token: str, desired: DesiredState) -> list[ContractCall]:
    """The transactions that bring the chain to the desired state (none if it is there)."""
    from chain import calls

    differ = differences(client, token, desired)
    compliance = client.compliance_of(token)
    needed = []
    if "paused" in differ:
        needed.append(calls.pause(token) if desired.paused else calls.unpause(token))
    if "holder_transfers_open" in differ:
        needed.append(calls.set_holder_transfers_open(compliance, False))
    if "denied_countries" in differ:
        needed.append(calls.restrict_countries(compliance, differ["denied_countries"][1]))
    if "allowed_countries" in differ:
        needed.append(calls.unrestrict_countries(compliance, differ["allowed_countries"][1]))
    if "max_balance" in differ:
        needed.append(calls.set_max_balance(compliance, desired.max_balance))
    if "max_holders" in differ:
        needed.append(calls.set_max_holders(compliance, desired.max_holders))
    return needed


def run_token_state_jobs(db: Engine, client: ChainClient, *, limit: int = 50,
                         actor: Actor | None = None) -> TokenStateReport:
    """Resume jobs a crash left 'sending', then run up to `limit` pending ones."""
    with locks.worker_lock(db, locks.TOKEN_STATE_WORKER) as held:
        if not held:
            return TokenStateReport(busy=True)
        report = TokenStateReport()
        _recover(db, client, report)
        with db.begin() as conn:
            jobs = conn.execute(CLAIM_SQL, {"limit": limit}).all()
            conn.execute(text("UPDATE token_chain_jobs SET status = 'sending', tx_hash = NULL,"
                              " attempts = attempts + 1, updated_at = now() WHERE id = ANY(:ids)"),
                         {"ids": [job.id for job in jobs]})
        for job in jobs:
            _run_job(db, client, job, report)
    audit_run(db, actor, "token_state.run", "token_state_run", report.to_dict(),
              did_something=bool(report.done or report.failed or report.requeued))
    return report


def _run_job(db: Engine, client: ChainClient, job: Any, report: TokenStateReport) -> None:
    import chain

    with db.begin() as conn:
        desired = desired_state(conn, job.token_id)
        contract = conn.execute(text("SELECT contract_address FROM tokens WHERE id = :t"),
                                {"t": job.token_id}).scalar_one()
    try:
        for call in calls_needed(client, contract, desired):
            sent = client.send(call, on_signed=lambda s: _record(db, job, s))
            report.transactions += 1
            receipt = client.wait(sent)
            with db.begin() as conn:
                record_receipt(conn, receipt)
    except (chain.ChainUnavailable, chain.TransactionTimeout):
        report.in_flight += 1  # left 'sending': the next run asks the chain about its hash
        return
    except Exception as error:  # noqa: BLE001 - a revert, or a suite that cannot be read
        receipt = getattr(error, "receipt", None)
        _finish(db, job.id, "failed" if _attempts(db, job.id) >= MAX_ATTEMPTS else "pending",
                str(error), receipt)
        report.failed_job(job=str(job.id), token_id=str(job.token_id),
                          error=mask_secrets(str(error)))
        return
    _finish(db, job.id, "done", None, None)
    report.done += 1


def _attempts(db: Engine, job_id: uuid.UUID) -> int:
    """How many times a job was claimed."""
    with db.connect() as conn:
        return int(conn.execute(text("SELECT attempts FROM token_chain_jobs WHERE id = :j"),
                                {"j": job_id}).scalar_one())


def _record(db: Engine, job: Any, sent: SentTransaction) -> None:
    with db.begin() as conn:
        conn.execute(text("UPDATE token_chain_jobs SET tx_hash = :h, updated_at = now()"
                          " WHERE id = :j"), {"h": sent.tx_hash, "j": job.id})
        record_sent(conn, job.token_id, f"token_{job.kind}", sent, ("token_chain_job", job.id))


def _finish(db: Engine, job_id: uuid.UUID, status: str, error: str | None, receipt: Any) -> None:
    with db.begin() as conn:
        if receipt is not None:
            record_receipt(conn, receipt)
        conn.execute(text(
            "UPDATE token_chain_jobs SET status = :s, error = :e, updated_at = now(),"
            " done_at = CASE WHEN :done THEN now() END WHERE id = :j"),
            {"s": status, "done": status == "done", "e": None if error is None else mask_secrets(error), "j": job_id})


def _recover(db: Engine, client: ChainClient, report: TokenStateReport) -> None:
    import chain

    with db.begin() as conn:
        stuck = conn.execute(text("SELECT id, tx_hash FROM token_chain_jobs"
                                  " WHERE status = 'sending'")).all()
    for job in stuck:
        try:
            outcome = tx_outcome(client, job.tx_hash)
        except chain.ChainError:
            report.in_flight += 1
            continue
        if outcome.kind == "in_flight":
            report.in_flight += 1
            continue
        with db.begin() as conn:  # compared again on its next run: nothing is done twice
            record_outcome(conn, job.tx_hash, outcome)
            conn.execute(text("UPDATE token_chain_jobs SET status = 'pending', error = :e,"
                              " updated_at = now() WHERE id = :j"),
                         {"e": outcome.error, "j": job.id})
        report.requeued += 1


def _numeric(alpha2: str) -> int:
    import iso3166

    return int(iso3166.countries.get(alpha2).numeric)


def open_jobs(conn: Connection, token_id: uuid.UUID) -> list[dict[str, Any]]:
    """The token's chain jobs not done yet (pending, sending, failed), oldest first."""
    rows = conn.execute(text(
        "SELECT id, kind, status, attempts, tx_hash, error, created_at FROM token_chain_jobs"
        " WHERE token_id = :t AND status <> 'done' ORDER BY created_at, id"), {"t": token_id})
    return [dict(row._mapping) for row in rows]


def has_pending_jobs(db: Engine) -> bool:
    """True when a job waits (pending, or left 'sending' by a crash) for a deployed token."""
    with db.connect() as conn:
        return bool(conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM token_chain_jobs j JOIN tokens t ON t.id = j.token_id"
            " WHERE j.status IN ('pending', 'sending') AND t.contract_address IS NOT NULL)")).scalar())
