"""Shared by the on-chain job workers (minting, settlement, token state, agent operations): what
a run reports, what became of a recorded transaction, and the identity registration of investors'
wallets.

A worker records a transaction's hash before broadcasting it (chain `on_signed`); after a crash
or a timeout it asks `tx_outcome` before it sends anything again: succeeded or reverted (mined),
in flight (known to the node, not mined: leave it), or dropped (unknown to the node, or never
signed: it can never be mined, so sending again cannot do the work twice).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.workflows.onchain.journal import record_receipt, record_sent

if TYPE_CHECKING:
    from chain import ChainClient, SentTransaction, TxReceipt

OUTCOMES = ("succeeded", "reverted", "in_flight", "dropped")
# The nationality of an investor's latest approved KYC, for `{user}` an alias of users.
NATIONALITY_SQL = ("(SELECT k.nationality FROM kyc_applications k WHERE k.user_id = {user}.id"
                   " AND k.status = 'approved' ORDER BY k.reviewed_at DESC LIMIT 1)")


@dataclass
class JobReport:
    """What one run of a chain job worker did: jobs that failed (`failures`: which and why, in
    the worker's own terms), left in flight or re-queued, or nothing at all because another
    worker held the lock (`busy`). Each worker's report adds its own counts."""

    failed: int = 0
    in_flight: int = 0
    requeued: int = 0
    busy: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)

    def failed_job(self, **failure: Any) -> None:
        """Count a job that failed, and keep which and why."""
        self.failed += 1
        self.failures.append(failure)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class TxOutcome:
    """What the chain says about a recorded transaction."""

    kind: str
    receipt: TxReceipt | None = None
    error: str | None = None


def tx_outcome(client: ChainClient, tx_hash: str | None) -> TxOutcome:
    """Ask the chain about a recorded hash (None: never signed, so dropped)."""
    receipt = client.receipt_of(tx_hash) if tx_hash else None
    if receipt is not None:
        if receipt.succeeded:
            return TxOutcome("succeeded", receipt)
        return TxOutcome("reverted", receipt, str(client.explain_failure(receipt)))
    if tx_hash and client.is_pending(tx_hash):
        return TxOutcome("in_flight")
    return TxOutcome("dropped")


def record_outcome(conn: Connection, tx_hash: str | None, outcome: TxOutcome) -> None:
    """Keep the outcome in gas_transactions: the receipt's gas, or the hash marked dropped."""
    if outcome.receipt is not None:
        record_receipt(conn, outcome.receipt)
    elif outcome.kind == "dropped" and tx_hash:
        mark_dropped(conn, [tx_hash])


def mark_dropped(conn: Connection, tx_hashes: list[str]) -> None:
    """Sent transactions that never reached the chain."""
    conn.execute(text("UPDATE gas_transactions SET status = 'dropped' WHERE tx_hash = ANY(:h)"
                      " AND status = 'sent'"), {"h": tx_hashes})


def register_wallets(db: Engine, client: ChainClient, token_id: Any, identity_registry: str,
                     countries: dict[str, int]) -> dict[str, str]:
    """Register each wallet once (idempotent on-chain), each transaction in the journal (purpose
    'identity', its gas once mined); returns the refused wallets with the reason."""
    import chain
    from chain import calls

    refused: dict[str, str] = {}
    for wallet, country in countries.items():
        if client.identity_of(identity_registry, wallet) is not None:
            continue
        try:
            sent = client.send(calls.register_identity(identity_registry, wallet, country),
                               on_signed=lambda s: _journal(db, token_id, "identity", s))
            receipt = client.wait(sent)
        except chain.ContractRevert as revert:
            if revert.receipt is not None:
                with db.begin() as conn:
                    record_receipt(conn, revert.receipt)
            refused[wallet] = f"identity registration refused: {revert}"
            continue
        with db.begin() as conn:
            record_receipt(conn, receipt)
    return refused


def _journal(db: Engine, token_id: Any, purpose: str, sent: SentTransaction) -> None:
    with db.begin() as conn:
        record_sent(conn, token_id, purpose, sent)


def country_numeric(country: str | None, nationality: str | None) -> int:
    """ISO 3166 numeric code of an investor's country (residence, else KYC nationality); 0 if none."""
    import iso3166

    for code in (country, nationality):
        found = iso3166.countries.get(code, None) if code else None
        if found is not None:
            return int(found.numeric)
    return 0


def audit_run(db: Engine, actor: Any, action: str, object_type: str, report: dict[str, Any],
              *, did_something: bool) -> None:
    """Audit a worker's run that did something (its counts), as `actor` (the operator of a cron
    command), else the service identity (workflows/service.py)."""
    from alefctl.ids import new_id
    from alefctl.workflows.service import service_actor

    if not did_something:
        return
    with db.begin() as conn:
        acting = actor or service_actor(conn)
        acting.audit(conn, action, object_type, new_id(), after=report)
