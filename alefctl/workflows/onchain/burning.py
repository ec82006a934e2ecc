"""Burning the tokens of refunded allocations (a cancelled or failed offering), exactly once.

A refunded allocation whose tokens were minted goes minted -> burning -> burned. As for mints
(onchain/minting.py), the burn's hash is written before it is broadcast, so after a crash the
worker asks the chain about every 'burning' allocation first: succeeded -> burned; reverted ->
back to minted with its error (retried next run); in flight -> left alone; unknown -> back to
minted. One batchBurn per token. It shares the mint worker's lock: a mint in flight settles
before its tokens are burned.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.redact import mask_secrets
from alefctl.workflows.onchain.jobs import JobReport, record_outcome, tx_outcome
from alefctl.workflows.onchain.journal import record_receipt, record_sent

if TYPE_CHECKING:
    from chain import ChainClient, SentTransaction

CLAIM = text(
    "SELECT a.id, a.token_id, a.quantity, u.wallet_address, t.contract_address, t.decimals"
    " FROM token_allocations a JOIN users u ON u.id = a.user_id JOIN tokens t ON t.id = a.token_id"
    " WHERE a.status = 'refunded' AND a.on_chain_status = 'minted' ORDER BY a.updated_at, a.id"
    " LIMIT :limit FOR UPDATE OF a SKIP LOCKED")


@dataclass
class BurnReport(JobReport):
    """What one run of the burn worker did."""

    burned: int = 0


def run_burn_jobs(db: Engine, client: ChainClient, *, limit: int = 100) -> BurnReport:
    """Recover in-flight burns, then burn up to `limit` refunded allocations' tokens."""
    with locks.worker_lock(db, locks.MINT_WORKER) as held:
        if not held:
            return BurnReport(busy=True)
        report = BurnReport()
        _recover(db, client, report)
        with db.begin() as conn:
            jobs = [dict(row._mapping) for row in conn.execute(CLAIM, {"limit": limit})]
            _set(conn, [j["id"] for j in jobs], "burning", clear_hash=True)
        by_token: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
        for job in jobs:
            by_token[job["token_id"]].append(job)
        for token_jobs in by_token.values():
            _burn(db, client, token_jobs, report)
    return report


def _burn(db: Engine, client: ChainClient, jobs: list[dict[str, Any]], report: BurnReport) -> None:
    from alefctl.chain_access import chain_errors
    from chain import calls

    call = calls.batch_burn(jobs[0]["contract_address"], [j["wallet_address"] for j in jobs],
                            [j["quantity"] * 10 ** j["decimals"] for j in jobs])
    ids = [j["id"] for j in jobs]
    try:
        with chain_errors():
            sent = client.send(call, on_signed=lambda s: _record(db, jobs, s))
            receipt = client.wait(sent)
    except Exception as error:
        import chain

        cause = error.__cause__ or error
        with db.begin() as conn:
            if isinstance(cause, chain.ContractRevert | chain.GasCapExceeded):
                _set(conn, ids, "minted", error=str(cause))  # burned nothing: retried next run
            else:  # unreachable or timed out: a signed burn may still land, so _recover asks
                _requeue_unsent(conn, ids, str(cause))
        report.failed += len(ids)
        return
    with db.begin() as conn:
        record_receipt(conn, receipt)
        _set(conn, ids, "burned")
    report.burned += len(ids)


def _record(db: Engine, jobs: list[dict[str, Any]], sent: SentTransaction) -> None:
    with db.begin() as conn:
        conn.execute(text("UPDATE token_allocations SET burn_tx_hash = :h WHERE id = ANY(:ids)"),
                     {"h": sent.tx_hash, "ids": [j["id"] for j in jobs]})
        record_sent(conn, jobs[0]["token_id"], "burn", sent, ("token_allocation", jobs[0]["id"]))


def _recover(db: Engine, client: ChainClient, report: BurnReport) -> None:
    with db.begin() as conn:
        in_flight = conn.execute(text(
            "SELECT burn_tx_hash AS tx_hash, array_agg(id) AS ids FROM token_allocations"
            " WHERE status = 'refunded' AND on_chain_status = 'burning'"
            " GROUP BY burn_tx_hash")).all()
    for row in in_flight:
        outcome = tx_outcome(client, row.tx_hash)
        with db.begin() as conn:
            record_outcome(conn, row.tx_hash, outcome)
            if outcome.kind == "succeeded":
                _set(conn, row.ids, "burned")
                report.burned += len(row.ids)
            elif outcome.kind == "in_flight":
                report.in_flight += len(row.ids)
            else:
                _set(conn, row.ids, "minted", error=outcome.error)
                report.failed += outcome.kind == "reverted" and len(row.ids)


def _requeue_unsent(conn: Connection, ids: list[uuid.UUID], error: str) -> None:
    """Back to 'minted' only the allocations whose burn was never signed; those with a recorded
    hash stay 'burning' for the next run's _recover (never a second burn of the same tokens)."""
    unsent = conn.execute(text("SELECT id FROM token_allocations WHERE id = ANY(:ids) AND"
                               " burn_tx_hash IS NULL"), {"ids": ids}).scalars().all()
    _set(conn, list(unsent), "minted", error=error)


def _set(conn: Connection, ids: list[uuid.UUID], status: str, *, error: str | None = None,
         clear_hash: bool = False) -> None:
    if not ids:
        return
    conn.execute(text(
        "UPDATE token_allocations SET on_chain_status = :s, on_chain_error = :e,"
        f"{' burn_tx_hash = NULL,' if clear_hash else ''} updated_at = now() WHERE id = ANY(:ids)"),
        {"s": status, "e": None if error is None else mask_secrets(error), "ids": ids})
