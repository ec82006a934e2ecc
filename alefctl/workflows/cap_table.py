"""The cap table of a token at any instant: what was issued, to whom by kind, what was burned,
what is outstanding and what the register holds.

The books are the register: tokens are credited to wallets (and so to positions_history) when
they are issued, before they are minted on-chain. SUPPLY_CHANGES lists every change of a
token's supply in the books with the time its transaction started (records are written with
now(); the wallet changes they cause follow in the same transaction, so just before a change's
time neither is in the books):
- issued: a confirmed allocation (sold in the primary offering, team, reserve, the platform's
  go-live share, other kinds) at its confirmation; a paid token dividend at its payment;
- burned: an agent's or a redemption's burn at its operation; a confirmed subscription refunded
  when its offering was cancelled, at its refund (its tokens are burned on-chain after);
- withdrawn: tokens moved off the platform (custody.py) at the approved withdrawal, back at a
  confirmed deposit. They are outstanding (on-chain) but in no position of the register.
At every instant: the register holds outstanding - off_platform (invariants.py checks it).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.db.system_users import treasury_id
from alefctl.errors import Conflict
from alefctl.workflows.actor import Actor
from alefctl.workflows.positions import POSITIONS_AS_OF
from alefctl.workflows.reconcile_db import SUPPLY_SQL
from alefctl.workflows.register import visible_at
from alefctl.workflows.tokens import get_token

if TYPE_CHECKING:
    from chain import ChainClient

ISSUED_KINDS = ("sold", "team", "reserve", "platform", "dividends", "other")
# (token_id, kind, quantity (+ into the books, - out), at) for every change of a token's supply
SUPPLY_CHANGES = (
    "SELECT token_id, CASE allocation_type WHEN 'primary' THEN 'sold' WHEN 'team' THEN 'team'"
    " WHEN 'reserve' THEN 'reserve' WHEN 'go_live' THEN 'platform' ELSE 'other' END AS kind,"
    " quantity, coalesce(confirmed_at, created_at) AS at FROM token_allocations"
    " WHERE status = 'confirmed' OR (status = 'refunded' AND confirmed_at IS NOT NULL)"
    " UNION ALL SELECT a.token_id, 'burned', -a.quantity, w.created_at FROM token_allocations a"
    " JOIN wallet_transactions w ON w.reference_type = 'token_allocation'"
    " AND w.reference_id = a.id AND w.type = 'refund' WHERE a.status = 'refunded'"
    " AND a.confirmed_at IS NOT NULL"
    " UNION ALL SELECT d.token_id, 'dividends', p.token_quantity, p.paid_at"
    " FROM dividend_payments p JOIN dividend_declarations d ON d.id = p.dividend_id"
    " WHERE d.dividend_type = 'token' AND p.status = 'paid' AND p.token_quantity > 0"
    " UNION ALL SELECT token_id, 'burned', -quantity, created_at FROM agent_operations"
    " WHERE kind = 'burn'"
    " UNION ALL SELECT token_id, 'withdrawn', -quantity, created_at FROM agent_operations"
    " WHERE kind = 'withdraw'"
    " UNION ALL SELECT token_id, 'withdrawn', quantity, updated_at FROM agent_operations"
    " WHERE kind = 'deposit' AND chain_status = 'done'"
)
FIGURES_SQL = text(
    f"SELECT kind, sum(quantity) AS quantity FROM ({SUPPLY_CHANGES}) c"
    " WHERE token_id = :token AND at <= :as_of GROUP BY kind")
HELD_SQL = text(
    "SELECT count(*) AS holders, coalesce(sum(quantity), 0) AS held,"
    " coalesce(sum(quantity) FILTER (WHERE user_id = :treasury), 0) AS treasury"
    f" FROM ({POSITIONS_AS_OF}) p")


@dataclass(frozen=True)
class CapTable:
    """A token's supply at an instant, in whole tokens."""

    symbol: str
    token_id: uuid.UUID
    as_of: datetime
    authorized: int  # the token's total supply
    issued: int
    sold: int  # primary offering, refunded subscriptions included (burned when refunded)
    team: int
    reserve: int
    platform: int  # the platform's go-live allocation
    dividends: int  # token dividends paid
    other: int  # other allocation kinds (airdrops, ...)
    burned: int  # burns and redemptions, and refunded subscriptions
    outstanding: int  # issued - burned
    off_platform: int  # withdrawn to outside wallets, less deposits back
    held: int  # the register's total: outstanding - off_platform
    treasury: int  # the platform's holding
    holder_count: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def cap_table(conn: Connection, actor: Actor, token_ref: str,
              as_of: datetime | None = None) -> CapTable:
    """The cap table of a token at as_of (default now): admins, and the token's issuer."""
    token, instant = visible_at(conn, actor, token_ref, as_of)
    params = {"token": token.id, "as_of": instant}
    by_kind = {row.kind: int(row.quantity) for row in conn.execute(FIGURES_SQL, params)}
    issued = {kind: by_kind.get(kind, 0) for kind in ISSUED_KINDS}
    burned = -by_kind.get("burned", 0)
    held = conn.execute(HELD_SQL, {**params, "treasury": treasury_id(conn)}).one()
    return CapTable(token.symbol, token.id, instant, token.total_supply, sum(issued.values()),
                    **issued, burned=burned, outstanding=sum(issued.values()) - burned,
                    off_platform=-by_kind.get("withdrawn", 0), held=int(held.held),
                    treasury=int(held.treasury), holder_count=int(held.holders))


def chain_supply(conn: Connection, client: ChainClient, table: CapTable) -> dict[str, Any]:
    """The chain's totalSupply next to what the database says is minted (reconcile's figures:
    mints and burns done, and those in flight that may or may not be on-chain yet); ok when
    totalSupply is within that range."""
    token = get_token(conn, str(table.token_id))
    if token.contract_address is None:
        raise Conflict(f"{token.symbol} is not deployed; there is nothing on-chain to compare")
    supply = conn.execute(SUPPLY_SQL, {"t": token.id}).one()
    units = client.total_supply(token.contract_address)
    low, high = int(supply.minted), int(supply.minted) + int(supply.minting)
    unit = 10 ** token.decimals
    return {"total_supply": token.tokens_of(units), "minted": low, "in_flight": high - low,
            "ok": low * unit <= units <= high * unit}
