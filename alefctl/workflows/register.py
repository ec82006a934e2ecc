"""The holder register (transfer agent's record): who held a token at any instant.

Each holder with their legal name (their approved KYC application's, else their account's),
country, wallet address, quantity, percentage of the quantity held at that instant and the date
their current holding began, from positions_history (workflows/positions.py). Seen by admins and
the token's issuer. `verify_chain` compares the current register with balanceOf for each holder
who has a wallet address; a difference explained by unsettled trades or unminted allocations
(the same explanation reconcile accepts) is in flight, not a break.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.positions import HELD_SINCE_LATERAL, POSITIONS_AS_OF
from alefctl.workflows.reconcile_db import token_snapshot
from alefctl.workflows.tokens import Token, get_token

if TYPE_CHECKING:
    from chain import ChainClient

REGISTER_SQL = (
    f"SELECT p.user_id, u.email, coalesce(k.full_name, u.full_name) AS legal_name, u.country,"
    f" u.wallet_address, p.quantity, round(p.quantity * 100.0 / sum(p.quantity) OVER (), 4)"
    f" AS pct_of_supply, a.held_since AS acquired_at FROM ({POSITIONS_AS_OF}) p {HELD_SINCE_LATERAL}"
    " JOIN users u ON u.id = p.user_id"
    " LEFT JOIN (SELECT DISTINCT ON (user_id) user_id, full_name FROM kyc_applications"
    " WHERE status = 'approved' ORDER BY user_id, reviewed_at DESC NULLS LAST) k"
    " ON k.user_id = u.id ORDER BY p.quantity DESC, u.email"
)


@dataclass(frozen=True)
class RegisterEntry:
    """One holder's line of the register."""

    user_id: uuid.UUID
    email: str
    legal_name: str
    country: str | None
    wallet_address: str | None
    quantity: int
    pct_of_supply: Decimal
    acquired_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class HolderRegister:
    """A token's holders at an instant, and what they hold together."""

    symbol: str
    token_id: uuid.UUID
    as_of: datetime
    total_held: int
    holders: list[RegisterEntry]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"symbol": self.symbol, "token_id": self.token_id, "as_of": self.as_of,
                "total_held": self.total_held, "holder_count": len(self.holders),
                "holders": [h.to_dict() for h in self.holders]}


def holder_register(conn: Connection, actor: Actor, token_ref: str,
                    as_of: datetime | None = None) -> HolderRegister:
    """The register of a token at as_of (default now): admins, and the token's issuer."""
    token, instant = visible_at(conn, actor, token_ref, as_of)
    rows = conn.execute(text(REGISTER_SQL), {"token": token.id, "as_of": instant})
    holders = [RegisterEntry(*row) for row in rows]
    return HolderRegister(token.symbol, token.id, instant, sum(h.quantity for h in holders), holders)


def verify_chain(conn: Connection, client: ChainClient, register: HolderRegister) -> list[dict[str, Any]]:
    """Each holder of the current register against balanceOf: status ok, in_flight (explained by
    unsettled items), off_chain (no wallet address) or break."""
    token = get_token(conn, str(register.token_id))
    if token.contract_address is None:
        raise Conflict(f"{token.symbol} is not deployed; there is nothing on-chain to compare")
    explained = {h.user_id: h for h in token_snapshot(conn, token.id).holders}
    unit = 10 ** token.decimals
    results = []
    for entry in register.holders:
        row: dict[str, Any] = {"email": entry.email, "wallet_address": entry.wallet_address,
                               "quantity": entry.quantity, "chain_quantity": None}
        if entry.wallet_address is None:
            results.append({**row, "status": "off_chain"})
            continue
        units = client.balance_of(token.contract_address, entry.wallet_address)
        row["chain_quantity"] = token.tokens_of(units)
        holder = explained.get(entry.user_id)
        low, high = holder.expected_range() if holder else (entry.quantity, entry.quantity)
        if units == entry.quantity * unit:
            status = "ok"
        elif low * unit <= units <= high * unit:
            status = "in_flight"
        else:
            status = "break"
        results.append({**row, "status": status})
    return results


def visible_at(conn: Connection, actor: Actor, token_ref: str,
               as_of: datetime | None) -> tuple[Token, datetime]:
    """The token (visible_token) and the instant asked for (default now; with a time zone)."""
    token = visible_token(conn, actor, token_ref)
    instant = as_of or conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    if instant.tzinfo is None:
        raise InvalidInput("as_of needs a time zone (e.g. 2026-01-31T17:00:00Z)", field="as_of")
    return token, instant


def visible_token(conn: Connection, actor: Actor, token_ref: str) -> Token:
    """The token, if the actor may read its register (and cap table): admins, its issuer."""
    policy.require(actor, "token.holders")
    token = get_token(conn, token_ref)
    if token.issuer_id != actor.user_id and not policy.may(actor, "token.holders.others"):
        raise NotFound(f"token not found: {token_ref}")
    return token
