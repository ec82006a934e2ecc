"""Settlement for admins: the trades and their settlement state, history, and retry of failures."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.ids import parse_id
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.settlement.queue import move
from alefctl.workflows.tokens import get_token

SETTLEMENT_STATUSES = ("pending", "processing", "settled", "failed")
TRADE_COLUMNS = (
    "tr.id, tr.token_id, t.symbol, b.email AS buyer_email, s.email AS seller_email, tr.price,"
    " tr.quantity, tr.total, tr.platform_fee, tr.settlement_status, tr.settlement_type,"
    " tr.settlement_attempts, tr.settlement_error, tr.tx_hash, tr.tx_nonce, tr.settled_at,"
    " tr.created_at"
)
TRADE_FROM = ("trades tr JOIN tokens t ON t.id = tr.token_id JOIN users b ON b.id = tr.buyer_id"
              " JOIN users s ON s.id = tr.seller_id")


@dataclass(frozen=True)
class SettlementTrade:
    """A trade as the settlement dashboard shows it."""

    id: uuid.UUID
    token_id: uuid.UUID
    symbol: str
    buyer_email: str
    seller_email: str
    price: Decimal
    quantity: int
    total: Decimal
    platform_fee: Decimal
    settlement_status: str
    settlement_type: str | None
    settlement_attempts: int
    settlement_error: str | None
    tx_hash: str | None
    tx_nonce: int | None
    settled_at: datetime | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def list_settlement_trades(conn: Connection, actor: Actor, *, status: str | None = None,
                           token: str | None = None, user: str | None = None,
                           limit: int = 100) -> list[SettlementTrade]:
    """Trades with their settlement state: unsettled first, newest first (admins)."""
    policy.require(actor, "settlement.read")
    if status is not None and status not in SETTLEMENT_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(SETTLEMENT_STATUSES)}", field="status")
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000", field="limit")
    token_id = get_token(conn, token).id if token else None
    rows = conn.execute(text(
        f"SELECT {TRADE_COLUMNS} FROM {TRADE_FROM}"
        " WHERE (CAST(:s AS text) IS NULL OR tr.settlement_status = :s)"
        " AND (CAST(:t AS uuid) IS NULL OR tr.token_id = :t)"
        " AND (CAST(:u AS text) IS NULL OR :u IN (b.email, s.email))"
        " ORDER BY tr.settlement_status = 'settled', tr.created_at DESC, tr.id DESC LIMIT :n"),
        {"s": status, "t": token_id, "u": user.strip().lower() if user else None, "n": limit})
    return [SettlementTrade(**row._mapping) for row in rows]


def get_settlement_trade(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """One trade's settlement state and every transition it went through (admins)."""
    policy.require(actor, "settlement.read")
    trade_id = parse_id(ref, field="trade")
    row = conn.execute(text(f"SELECT {TRADE_COLUMNS} FROM {TRADE_FROM} WHERE tr.id = :id"),
                       {"id": trade_id}).first()
    if row is None:
        raise NotFound(f"trade not found: {ref}")
    history = conn.execute(text(
        "SELECT from_status, to_status, attempt, tx_hash, error, created_at"
        " FROM trade_settlement_history WHERE trade_id = :id ORDER BY created_at, id"),
        {"id": trade_id}).mappings().all()
    return {**SettlementTrade(**row._mapping).to_dict(), "history": [dict(h) for h in history]}


def retry_failed_settlements(conn: Connection, actor: Actor,
                             trade_refs: list[str] | None) -> list[uuid.UUID]:
    """failed -> pending with attempts reset, audited (admins); None retries every failed trade."""
    policy.require(actor, "settlement.retry")
    ids = None if trade_refs is None else [parse_id(ref, field="trade") for ref in trade_refs]
    rows = conn.execute(text(
        "SELECT id, settlement_status, settlement_attempts, settlement_error FROM trades"
        " WHERE (CAST(:ids AS uuid[]) IS NULL AND settlement_status = 'failed')"
        " OR id = ANY(CAST(:ids AS uuid[]))"
        " ORDER BY created_at, id FOR UPDATE"), {"ids": ids}).all()
    if ids is not None:
        _check_retryable(ids, {row.id: row.settlement_status for row in rows})
    moved = move(conn, [row.id for row in rows], "admin_retry")
    for row in rows:
        actor.audit(conn, "trade.retry_settlement", "trade", row.id,
                    before={"settlement_status": row.settlement_status,
                            "settlement_attempts": row.settlement_attempts,
                            "settlement_error": row.settlement_error},
                    after={"settlement_status": "pending", "settlement_attempts": 0})
    return list(moved)


def _check_retryable(ids: list[uuid.UUID], statuses: dict[uuid.UUID, str]) -> None:
    for trade_id in ids:
        if trade_id not in statuses:
            raise NotFound(f"trade not found: {trade_id}")
        if statuses[trade_id] != "failed":
            raise Conflict(f"cannot retry settlement: trade {trade_id} is"
                           f" {statuses[trade_id]} (needs failed)")
