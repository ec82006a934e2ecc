"""What a seller still has coming on-chain: a sale whose tokens are not minted yet waits.

A trade made right after go-live sells tokens whose mint may still be queued; a trade reselling
tokens bought in a trade not yet settled on-chain needs that trade first. Neither is a failed
attempt: settlement re-queues such a trade without counting it, naming what it waits for, and
sends it once the seller's free balance covers it (transfers.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

from alefctl.workflows.settlement.queue import MAX_ATTEMPTS

INCOMING_SQL = text(
    "SELECT lower(u.wallet_address) AS wallet, x.source, sum(x.quantity) AS quantity FROM ("
    " SELECT a.user_id, 'allocation' AS source, a.quantity FROM token_allocations a"
    " WHERE a.token_id = :t AND a.status = 'confirmed' AND a.on_chain_status IN ('pending', 'minting')"
    " UNION ALL SELECT p.user_id, 'token dividend', p.token_quantity FROM dividend_payments p"
    " JOIN dividend_declarations d ON d.id = p.dividend_id WHERE d.token_id = :t"
    " AND d.dividend_type = 'token' AND p.status = 'paid' AND p.on_chain_status IN ('pending', 'minting')"
    " UNION ALL SELECT tr.buyer_id, 'purchase', tr.quantity FROM trades tr WHERE tr.token_id = :t"
    " AND tr.settlement_status IN ('pending', 'processing')"
    f" AND tr.settlement_attempts < {MAX_ATTEMPTS}"
    " AND NOT (tr.id = ANY(:batch))"
    ") x JOIN users u ON u.id = x.user_id WHERE lower(u.wallet_address) = ANY(:wallets)"
    " GROUP BY 1, 2 ORDER BY 1, 2")


def incoming_tokens(conn: Connection, token_id: uuid.UUID, wallets: list[str],
                    batch: list[uuid.UUID]) -> dict[str, str]:
    """For each wallet with tokens still to arrive on-chain (mints queued, purchases not settled
    outside `batch`), what it waits for, e.g. '100 from allocation mints not yet done'."""
    waiting: dict[str, list[str]] = {}
    rows = conn.execute(INCOMING_SQL, {"t": token_id, "wallets": [w.lower() for w in wallets],
                                       "batch": batch})
    for row in rows:
        kind = {"allocation": "an allocation mint", "token dividend": "a token-dividend mint",
                "purchase": "a purchase not yet settled on-chain"}[row.source]
        waiting.setdefault(row.wallet, []).append(f"{row.quantity} from {kind}")
    return {wallet: ", ".join(parts) for wallet, parts in waiting.items()}
