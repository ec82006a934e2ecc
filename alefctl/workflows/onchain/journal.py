"""The transaction journal (gas_transactions): every transaction alefctl sends, recorded with its
hash and nonce before its receipt is awaited, then its outcome once mined. Deployment, mints,
settlement transfers and identity registrations all write here, so a worker that restarts can
ask the chain what became of what it sent.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from alefctl.ids import new_id

if TYPE_CHECKING:
    from chain import SentTransaction, TxReceipt


def record_sent(conn: Connection, token_id: uuid.UUID | None, purpose: str, sent: SentTransaction,
                reference: tuple[str, uuid.UUID] | None = None) -> None:
    """A sent transaction, before its receipt is awaited (the crash-safety record)."""
    conn.execute(text(
        "INSERT INTO gas_transactions (id, token_id, purpose, reference_type, reference_id, tx_hash,"
        " nonce, from_address, to_address, gas_limit, chain_id) VALUES (:id, :t, :purpose, :rtype,"
        " :rid, :hash, :nonce, :sender, :to, :gas, :chain) ON CONFLICT (tx_hash) DO NOTHING"),
        {"id": new_id(), "t": token_id, "purpose": purpose,
         "rtype": reference[0] if reference else None, "rid": reference[1] if reference else None,
         "hash": sent.tx_hash, "nonce": sent.nonce, "sender": sent.sender, "to": sent.to,
         "gas": sent.gas_limit, "chain": sent.chain_id})


def record_receipt(conn: Connection, receipt: TxReceipt) -> None:
    """Gas used and outcome of a mined transaction."""
    conn.execute(text(
        "UPDATE gas_transactions SET gas_used = :gas, gas_price_wei = :price, block_number = :block,"
        " contract_address = :contract, status = :status, confirmed_at = now() WHERE tx_hash = :h"),
        {"gas": receipt.gas_used, "price": receipt.effective_gas_price,
         "block": receipt.block_number, "contract": receipt.contract_address,
         "status": "confirmed" if receipt.succeeded else "reverted", "h": receipt.tx_hash})
