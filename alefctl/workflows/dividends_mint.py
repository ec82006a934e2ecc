"""The on-chain side of token dividends, as jobs for the mint worker (DB first, chain after).

A paid token-dividend payment has on_chain_status 'pending': its tokens are in the holder's
wallet row but not yet minted on-chain. The worker (not part of this module):
  1. claim_dividend_mints(conn): a batch locked with SKIP LOCKED, so two workers never share one;
     a 'minting' job comes back too, with its tx_hash: look at the chain before sending again;
  2. sends one batchMint of each job's amount_units to its wallet_address, then, before waiting
     for the receipt, mark_dividend_mints_sent(conn, ids, tx_hash, nonce) and commit;
  3. mark_dividend_mints_done(conn, ids, minted=True) on the receipt, or minted=False, error=...
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class DividendMint:
    """One holder's dividend tokens to mint on the token's contract."""

    payment_id: uuid.UUID
    dividend_id: uuid.UUID
    token_id: uuid.UUID
    contract_address: str | None
    decimals: int
    user_id: uuid.UUID
    wallet_address: str | None
    quantity: int
    on_chain_status: str
    on_chain_tx_hash: str | None
    on_chain_nonce: int | None

    @property
    def amount_units(self) -> int:
        """The on-chain amount: quantity * 10**decimals."""
        return self.quantity * 10 ** self.decimals

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {**asdict(self), "amount_units": str(self.amount_units)}


def claim_dividend_mints(conn: Connection, limit: int = 100,
                         token_id: uuid.UUID | None = None) -> list[DividendMint]:
    """Paid token-dividend payments still to mint (pending or sent), locked for this transaction."""
    rows = conn.execute(text(
        "SELECT p.id AS payment_id, p.dividend_id, d.token_id, t.contract_address, t.decimals,"
        " p.user_id, u.wallet_address, p.token_quantity AS quantity, p.on_chain_status,"
        " p.on_chain_tx_hash, p.on_chain_nonce FROM dividend_payments p"
        " JOIN dividend_declarations d ON d.id = p.dividend_id JOIN tokens t ON t.id = d.token_id"
        " JOIN users u ON u.id = p.user_id WHERE d.dividend_type = 'token' AND p.status = 'paid'"
        " AND p.on_chain_status IN ('pending', 'minting')"
        " AND (CAST(:t AS uuid) IS NULL OR d.token_id = :t)"
        " ORDER BY p.paid_at, p.id LIMIT :n FOR UPDATE OF p SKIP LOCKED"),
        {"t": token_id, "n": limit})
    return [DividendMint(**row._mapping) for row in rows]


def mark_dividend_mints_sent(conn: Connection, payment_ids: list[uuid.UUID], tx_hash: str,
                             nonce: int) -> int:
    """Record the mint transaction's hash and nonce before its receipt is awaited."""
    return conn.execute(text(
        "UPDATE dividend_payments SET on_chain_status = 'minting', on_chain_tx_hash = :h,"
        " on_chain_nonce = :n, on_chain_error = NULL WHERE id = ANY(:ids)"
        " AND on_chain_status IN ('pending', 'minting')"),
        {"h": tx_hash, "n": nonce, "ids": payment_ids}).rowcount


def mark_dividend_mints_done(conn: Connection, payment_ids: list[uuid.UUID], *, minted: bool,
                             error: str | None = None) -> int:
    """Record the receipt: minted, or failed with the error kept for an admin retry."""
    return conn.execute(text(
        "UPDATE dividend_payments SET on_chain_status = :s, on_chain_error = :e"
        " WHERE id = ANY(:ids) AND on_chain_status = 'minting'"),
        {"s": "minted" if minted else "failed", "e": None if minted else (error or "mint failed"),
         "ids": payment_ids}).rowcount
