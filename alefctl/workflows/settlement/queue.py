"""The settlement queue in the database: claiming trades and moving them along their flow.

Every move is one set-based statement that changes the trades still in the expected status and
writes a trade_settlement_history row for each of them (from, to, attempt number, hash, error).
`attempt` in the history is the number of the attempt the row belongs to (1 for the first);
an admin retry writes attempt 0. settlement_attempts counts failed attempts: the fifth one
leaves the trade failed, with its error, until an admin retries it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.ids import UUID_V7_SQL
from alefctl.redact import mask_secrets
from alefctl.workflows.onchain.jobs import NATIONALITY_SQL, country_numeric
from alefctl.workflows.onchain.journal import record_sent

if TYPE_CHECKING:
    from chain import SentTransaction

MAX_ATTEMPTS = 5
DEFAULT_BATCH_SIZE = 10
# action -> (status it starts from, status it leads to); a counted failure of the last attempt
# leads to 'failed' instead of 'pending'.
SETTLEMENT_FLOW: Mapping[str, tuple[str, str]] = {
    "settle_off_chain": ("pending", "settled"),
    "claim": ("pending", "processing"),
    "settle_on_chain": ("processing", "settled"),
    "retry_later": ("processing", "pending"),
    "admin_retry": ("failed", "pending"),
}
CLAIM_SQL = text(
    "SELECT t.id, t.token_id, tk.symbol, tk.contract_address, tk.identity_registry_addr,"
    " tk.decimals, t.quantity, t.settlement_attempts, s.wallet_address AS seller_wallet,"
    " b.wallet_address AS buyer_wallet, b.country AS buyer_country,"
    f" {NATIONALITY_SQL.format(user='b')} AS buyer_nationality"
    " FROM trades t JOIN tokens tk ON tk.id = t.token_id JOIN users b ON b.id = t.buyer_id"
    " JOIN users s ON s.id = t.seller_id"
    " WHERE t.settlement_status = 'pending' AND t.settlement_attempts < :max"
    " AND NOT (t.id = ANY(:exclude)) ORDER BY t.created_at, t.id LIMIT :limit FOR UPDATE OF t SKIP LOCKED")
MOVE_SQL = (
    "WITH moved AS (UPDATE trades SET settlement_status = CASE WHEN :counted"
    " AND settlement_attempts + 1 >= :max THEN 'failed' ELSE CAST(:to AS varchar) END,"
    " settlement_attempts = {attempts}, settlement_error = :error{extra}"
    " WHERE id = ANY(:ids) AND settlement_status = :from"
    " RETURNING id, settlement_status, settlement_attempts, tx_hash)"
    " INSERT INTO trade_settlement_history (id, trade_id, from_status, to_status, attempt,"
    f" tx_hash, error) SELECT {UUID_V7_SQL}, id, :from, settlement_status,"
    " settlement_attempts + :offset, tx_hash, :error FROM moved RETURNING trade_id, to_status"
)


@dataclass(frozen=True)
class SettlementJob:
    """A claimed trade with what its on-chain transfer needs."""

    id: uuid.UUID
    token_id: uuid.UUID
    symbol: str
    contract_address: str | None
    identity_registry_addr: str | None
    decimals: int
    quantity: int
    settlement_attempts: int
    seller_wallet: str | None
    buyer_wallet: str | None
    buyer_country: str | None
    buyer_nationality: str | None

    @property
    def on_chain(self) -> bool:
        """The spec's rule: a contract and both wallets, else settled off-chain."""
        return bool(self.contract_address and self.seller_wallet and self.buyer_wallet)

    @property
    def amount_units(self) -> int:
        """The on-chain amount: quantity * 10**decimals."""
        return self.quantity * 10 ** self.decimals

    @property
    def buyer_country_code(self) -> int:
        """ISO numeric country registered for the buyer's wallet."""
        return country_numeric(self.buyer_country, self.buyer_nationality)


def claim_pending(conn: Connection, limit: int = DEFAULT_BATCH_SIZE,
                  exclude: list[uuid.UUID] | None = None) -> list[SettlementJob]:
    """The oldest pending trades (but `exclude`), locked for this transaction; others skip them."""
    rows = conn.execute(CLAIM_SQL, {"max": MAX_ATTEMPTS, "limit": limit, "exclude": exclude or []})
    return [SettlementJob(**row._mapping) for row in rows]


def move(conn: Connection, ids: list[uuid.UUID], action: str, *, error: str | None = None,
         counted: bool = False, tx_hash: str | None = None) -> dict[uuid.UUID, str]:
    """Apply a SETTLEMENT_FLOW action to the trades still in its from-status; returns new statuses.
    The error is stored without credentials (a chain error quotes the node's URL)."""
    if not ids:
        return {}
    source, target = SETTLEMENT_FLOW[action]
    extra, attempts, offset = _assignments(action, counted)
    rows = conn.execute(text(MOVE_SQL.format(extra=extra, attempts=attempts)), {
        "ids": ids, "from": source, "to": target, "counted": counted, "max": MAX_ATTEMPTS,
        "error": None if error is None else mask_secrets(error), "offset": offset, "hash": tx_hash}).all()
    return {row.trade_id: row.to_status for row in rows}


def _assignments(action: str, counted: bool) -> tuple[str, str, int]:
    """Extra SET clauses, the new attempts expression and the history attempt offset."""
    if action == "admin_retry":
        return ", tx_hash = NULL, tx_nonce = NULL", "0", 0
    attempts = "settlement_attempts + 1" if counted else "settlement_attempts"
    offset = 0 if counted else 1
    if action == "claim":  # a new attempt: forget the hash of the previous one
        return ", tx_hash = NULL, tx_nonce = NULL", attempts, offset
    if action == "settle_off_chain":
        return ", settlement_type = 'off_chain', settled_at = now()", attempts, offset
    if action == "settle_on_chain":
        return (", settlement_type = 'on_chain', tx_hash = :hash, settled_at = now()", attempts,
                offset)
    return "", attempts, offset


def record_transaction(conn: Connection, jobs: list[SettlementJob], sent: SentTransaction) -> None:
    """The transfer's hash and nonce, before broadcast; refuses if a trade left 'processing'."""
    ids = [job.id for job in jobs]
    conn.execute(text(
        # A previous hash of these trades in this attempt was refused by the node (nonce retry).
        "UPDATE gas_transactions SET status = 'dropped' WHERE status = 'sent' AND tx_hash IN"
        " (SELECT tx_hash FROM trades WHERE id = ANY(:ids) AND tx_hash IS NOT NULL"
        " AND tx_hash <> :h)"), {"ids": ids, "h": sent.tx_hash})
    updated = conn.execute(text(
        "UPDATE trades SET tx_hash = :h, tx_nonce = :n WHERE id = ANY(:ids)"
        " AND settlement_status = 'processing'"),
        {"h": sent.tx_hash, "n": sent.nonce, "ids": ids}).rowcount
    if updated != len(ids):
        from alefctl.errors import Conflict

        raise Conflict(f"{len(ids) - updated} of the trades being settled left 'processing';"
                       " the transfer is not broadcast")
    record_sent(conn, jobs[0].token_id, "settlement", sent, ("trade", jobs[0].id))


def processing_groups(conn: Connection, token_id: uuid.UUID | None = None) -> list[Any]:
    """Trades in 'processing' by token and recorded hash (NULL: never signed)."""
    return list(conn.execute(text(
        "SELECT token_id, tx_hash, array_agg(id ORDER BY created_at, id) AS ids FROM trades"
        " WHERE settlement_status = 'processing' AND (CAST(:t AS uuid) IS NULL OR token_id = :t)"
        " GROUP BY token_id, tx_hash ORDER BY token_id"), {"t": token_id}))


def backlog(conn: Connection) -> int:
    """Trades awaiting settlement (pending or processing)."""
    return int(conn.execute(text("SELECT count(*) FROM trades WHERE settlement_status"
                                 " IN ('pending', 'processing')")).scalar_one())
