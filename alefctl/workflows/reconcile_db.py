"""The database side of reconcile: a token's positions and what is not (yet) on-chain.

An item's `delta` is what it makes the chain differ from the database for one user, in whole
tokens: the database moves at once, the chain later (or never, for an off-chain settlement).
- a sale not settled on-chain: +quantity for the seller (the chain still has the tokens);
- a purchase not settled on-chain: -quantity for the buyer;
- a confirmed allocation or paid token dividend not minted: -quantity;
- a token withdrawal not yet moved on-chain (custody.py): +quantity (still in the wallet);
- a token deposit being sent (custody.py): uncertain +quantity (maybe arrived, not credited);
- a burn (an agent's, a redemption's) not yet done on-chain: +quantity.
Tokens withdrawn to outside wallets are off the platform: `withdrawn` (net of deposits, done),
`withdrawing` and `depositing` (sent, maybe mined) explain the part of totalSupply no position
holds.
Items in 'processing' / 'minting' may already be on-chain: they are uncertain (0 or delta).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

UNCERTAIN = ("processing", "minting", "burning", "sending")
HOLDERS_SQL = text(
    "SELECT u.id AS user_id, u.email, u.wallet_address, w.balance, w.locked_balance"
    " FROM wallets w JOIN users u ON u.id = w.user_id WHERE w.token_id = :t ORDER BY u.email")
ITEMS_SQL = text(
    "SELECT user_id, kind, status, count(*) AS items, sum(delta) AS delta FROM ("
    " SELECT seller_id AS user_id, 'sale' AS kind, quantity AS delta, CASE WHEN"
    " settlement_status = 'settled' THEN 'off_chain' ELSE settlement_status END AS status"
    " FROM trades WHERE token_id = :t AND settlement_type IS DISTINCT FROM 'on_chain'"
    " UNION ALL SELECT buyer_id, 'purchase', -quantity, CASE WHEN settlement_status = 'settled'"
    " THEN 'off_chain' ELSE settlement_status END"
    " FROM trades WHERE token_id = :t AND settlement_type IS DISTINCT FROM 'on_chain'"
    " UNION ALL SELECT user_id, 'allocation', -quantity, on_chain_status FROM token_allocations"
    " WHERE token_id = :t AND status = 'confirmed' AND on_chain_status <> 'minted'"
    # a refunded allocation's tokens stay on-chain until its burn (offering_admin.py)
    " UNION ALL SELECT user_id, 'refund', quantity, on_chain_status FROM token_allocations"
    " WHERE token_id = :t AND status = 'refunded' AND on_chain_status IN ('minted', 'burning')"
    " UNION ALL SELECT p.user_id, 'dividend', -p.token_quantity, coalesce(p.on_chain_status,"
    " 'pending') FROM dividend_payments p JOIN dividend_declarations d ON d.id = p.dividend_id"
    " WHERE d.token_id = :t AND d.dividend_type = 'token' AND p.status = 'paid'"
    " AND p.on_chain_status IS DISTINCT FROM 'minted'"
    " UNION ALL SELECT user_id, 'withdrawal', quantity, chain_status FROM agent_operations"
    " WHERE token_id = :t AND kind = 'withdraw' AND chain_status IN ('pending', 'sending', 'failed')"
    " UNION ALL SELECT user_id, 'deposit', quantity, chain_status FROM agent_operations"
    " WHERE token_id = :t AND kind = 'deposit' AND chain_status = 'sending'"
    # a burn (an agent's, or a redemption's) is off the books at once, on-chain by its job
    " UNION ALL SELECT user_id, 'burn', quantity, CASE chain_status WHEN 'sending' THEN 'burning'"
    " ELSE chain_status END FROM agent_operations WHERE token_id = :t AND kind = 'burn'"
    " AND chain_status IN ('pending', 'sending', 'failed')) i GROUP BY user_id, kind, status"
    " ORDER BY user_id, kind, status")
SUPPLY_SQL = text(
    "SELECT coalesce(sum(quantity) FILTER (WHERE s = 'minted'), 0) AS minted,"
    " coalesce(sum(quantity) FILTER (WHERE s = 'minting'), 0) AS minting FROM ("
    " SELECT quantity, CASE on_chain_status WHEN 'burning' THEN 'minting' ELSE on_chain_status"
    " END AS s FROM token_allocations WHERE token_id = :t AND (status = 'confirmed'"
    " OR (status = 'refunded' AND on_chain_status IN ('minted', 'burning')))"
    " UNION ALL SELECT p.token_quantity, p.on_chain_status"
    " FROM dividend_payments p JOIN dividend_declarations d ON d.id = p.dividend_id"
    " WHERE d.token_id = :t AND d.dividend_type = 'token' AND p.status = 'paid'"
    # burned supply: gone once its job is done; a burn in flight may or may not be yet
    " UNION ALL SELECT -quantity, 'minted' FROM agent_operations WHERE token_id = :t"
    " AND kind = 'burn' AND chain_status IN ('done', 'sending')"
    " UNION ALL SELECT quantity, 'minting' FROM agent_operations WHERE token_id = :t"
    " AND kind = 'burn' AND chain_status = 'sending') m")

WITHDRAWN_SQL = text(
    "SELECT coalesce(sum(CASE kind WHEN 'withdraw' THEN quantity ELSE -quantity END)"
    " FILTER (WHERE chain_status = 'done'), 0) AS withdrawn,"
    " coalesce(sum(quantity) FILTER (WHERE kind = 'withdraw' AND chain_status = 'sending'), 0)"
    " AS withdrawing, coalesce(sum(quantity) FILTER (WHERE kind = 'deposit'"
    " AND chain_status = 'sending'), 0) AS depositing"
    " FROM agent_operations WHERE token_id = :t AND kind IN ('withdraw', 'deposit')")


@dataclass(frozen=True)
class Item:
    """Unsettled items of one kind and status for one user, summed."""

    kind: str
    status: str
    items: int
    delta: int

    @property
    def certain(self) -> bool:
        """False when the item may already be on-chain."""
        return self.status not in UNCERTAIN

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"kind": self.kind, "status": self.status, "items": self.items, "delta": self.delta}


@dataclass
class Holder:
    """A user's database position in the token and its unsettled items."""

    user_id: uuid.UUID
    email: str
    wallet_address: str | None
    balance: int
    locked_balance: int
    items: list[Item] = field(default_factory=list)

    def failed_items(self) -> list[Item]:
        """The items whose settlement or mint failed: they will not reach the chain by themselves."""
        return [item for item in self.items if item.status == "failed"]

    def expected_range(self) -> tuple[int, int]:
        """The on-chain balance the database explains, in whole tokens: (lowest, highest)."""
        base = self.balance + sum(i.delta for i in self.items if i.certain)
        low = base + sum(min(0, i.delta) for i in self.items if not i.certain)
        high = base + sum(max(0, i.delta) for i in self.items if not i.certain)
        return low, high


@dataclass(frozen=True)
class TokenSnapshot:
    """Everything reconcile compares for one token, from one database snapshot."""

    holders: list[Holder]
    minted: int
    minting: int
    withdrawn: int = 0  # moved to outside wallets on-chain, less deposits back
    withdrawing: int = 0  # being moved out (the transaction may be mined)
    depositing: int = 0  # being moved back in (the transaction may be mined)


def token_snapshot(conn: Connection, token_id: uuid.UUID) -> TokenSnapshot:
    """Positions, unsettled items and minted supply of a token, in the caller's transaction."""
    holders = {row.user_id: Holder(**row._mapping) for row in conn.execute(HOLDERS_SQL,
                                                                           {"t": token_id})}
    for row in conn.execute(ITEMS_SQL, {"t": token_id}):
        holder = holders.get(row.user_id)
        if holder is not None:
            holder.items.append(Item(row.kind, row.status, int(row.items), int(row.delta)))
    supply = conn.execute(SUPPLY_SQL, {"t": token_id}).one()
    out = conn.execute(WITHDRAWN_SQL, {"t": token_id}).one()
    return TokenSnapshot(list(holders.values()), int(supply.minted), int(supply.minting),
                         int(out.withdrawn), int(out.withdrawing), int(out.depositing))
