"""Read-only views of the admins' dashboard: counts of what needs attention, queues, the audit log.

Nothing here writes or decides: each function is one SELECT, for any front end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.settings import JobSettings
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

# A settlement still pending or processing after this long is shown as stuck: the default of the
# threshold `alefctl check` fails on (settings jobs.settlement_stuck_minutes).
STUCK_AFTER_MINUTES: int = JobSettings.model_fields["settlement_stuck_minutes"].default
ATTENTION_SQL = f"""
SELECT
 (SELECT count(*) FROM kyc_applications WHERE status IN ('pending', 'in_review')) AS kyc,
 (SELECT count(*) FROM businesses WHERE status = 'pending') AS businesses,
 (SELECT count(*) FROM token_allocations WHERE status = 'pending_payment') AS payments,
 (SELECT count(*) FROM token_allocations WHERE on_chain_status = 'failed') AS mints,
 (SELECT count(*) FROM trades WHERE settlement_status = 'failed') AS failed_settlements,
 (SELECT count(*) FROM dividend_payments WHERE on_chain_status = 'failed') AS failed_dividend_mints,
 (SELECT count(*) FROM trades WHERE settlement_status = 'failed'
   OR (settlement_status IN ('pending', 'processing')
       AND created_at < now() - interval '{STUCK_AFTER_MINUTES} minutes')) AS settlements,
 (SELECT count(*) FROM dividend_declarations WHERE status = 'pending_approval') AS dividends,
 (SELECT count(*) FROM surveillance_alerts WHERE status = 'open') AS alerts,
 (SELECT count(DISTINCT token_id) FROM circuit_breaker_events WHERE resets_at > now()) AS breakers,
 (SELECT count(*) FROM approval_requests WHERE status IN ('pending', 'failed')) AS approvals
"""


@dataclass(frozen=True)
class Attention:
    """What needs an admin now: one count per queue."""

    kyc: int
    businesses: int
    payments: int
    mints: int  # failed allocation mints
    failed_settlements: int
    failed_dividend_mints: int  # token dividends whose mint failed
    settlements: int  # failed, or pending longer than STUCK_AFTER_MINUTES
    dividends: int
    alerts: int
    breakers: int
    approvals: int  # four-eyes requests awaiting a second admin (pending, or failed and retryable),
    # a submitted dividend's too (also counted by `dividends`: the same request, two queues)
    unread: int = 0  # the reader's unread notifications (notifications.unread_count), per actor


def attention(conn: Connection) -> Attention:
    """Every count of the overview, in one statement."""
    return Attention(**conn.execute(text(ATTENTION_SQL)).one()._mapping)


def audit_log(conn: Connection, actor: str = "", action: str = "", object_ref: str = "",
              limit: int = 300, *, actor_email: str | None = None,
              action_prefix: str | None = None, since: datetime | None = None
              ) -> list[dict[str, Any]]:
    """Audit rows, newest first: in chain order, the order their transactions committed (read
    backwards along the chain's index; a row outside the chain, which only tampering leaves,
    comes first). actor, action and object_ref are case-insensitive substrings (the console's
    filters as typed); actor_email is one whole email, action_prefix the start of the action
    (`kyc.`), since the earliest created_at (investigators)."""
    rows = conn.execute(text(
        "SELECT a.id, a.created_at, coalesce(u.email, '-') AS actor, a.source, a.action,"
        " a.object_type, a.object_id, a.before, a.after FROM audit_logs a"
        " LEFT JOIN users u ON u.id = a.actor_id"
        " WHERE coalesce(u.email, '') ILIKE :actor AND a.action ILIKE :action"
        " AND (a.object_type || ' ' || coalesce(a.object_id::text, '')) ILIKE :object"
        " AND (CAST(:email AS text) IS NULL OR u.email = :email)"
        " AND a.action ILIKE :prefix"
        " AND (CAST(:since AS timestamptz) IS NULL OR a.created_at >= :since)"
        " ORDER BY a.seq DESC NULLS FIRST, a.created_at DESC, a.id DESC LIMIT :limit"),
        {"actor": _like(actor), "action": _like(action), "object": _like(object_ref),
         "email": None if actor_email is None else actor_email.strip().lower(),
         "prefix": _escape(action_prefix or "") + "%", "since": since, "limit": limit})
    return [dict(row._mapping) for row in rows]


def holder_count(conn: Connection, token_id: uuid.UUID) -> int:
    """How many users hold the token on the books."""
    return conn.execute(text("SELECT count(*) FROM wallets WHERE token_id = :t AND balance > 0"),
                        {"t": token_id}).scalar_one()


def deploy_transactions(conn: Connection, token_id: uuid.UUID) -> list[dict[str, Any]]:
    """The token's deployment transactions as recorded so far (each is written before it is mined)."""
    rows = conn.execute(text(
        "SELECT substr(purpose, 8) AS step, tx_hash, status, gas_used, created_at"
        " FROM gas_transactions WHERE token_id = :t AND purpose LIKE 'deploy:%'"
        " ORDER BY created_at, id"), {"t": token_id})
    return [dict(row._mapping) for row in rows]


def unminted_allocations(conn: Connection, token_id: uuid.UUID) -> dict[str, int]:
    """The token's confirmed allocations not yet minted on-chain, counted by on_chain_status
    (pending, minting, failed); empty when every one is minted."""
    rows = conn.execute(text(
        "SELECT on_chain_status, count(*) FROM token_allocations WHERE token_id = :t"
        " AND status = 'confirmed' AND on_chain_status <> 'minted' GROUP BY on_chain_status"),
        {"t": token_id})
    return {status: count for status, count in rows}


def open_orders(conn: Connection, token_id: uuid.UUID, limit: int = 200) -> list[dict[str, Any]]:
    """Every user's open orders and pending stops of a token, in time priority."""
    rows = conn.execute(text(
        "SELECT o.id, u.email, o.side, o.order_type, o.price, o.stop_price, o.quantity,"
        " o.filled_quantity, o.status, o.created_at FROM orders o JOIN users u ON u.id = o.user_id"
        f" WHERE o.token_id = :t AND o.status IN {OPEN_STATUSES_SQL}"
        " ORDER BY o.engine_seq, o.created_at, o.id LIMIT :limit"), {"t": token_id, "limit": limit})
    return [dict(row._mapping) for row in rows]


def tripped_breakers(conn: Connection) -> list[dict[str, Any]]:
    """Circuit breakers still tripped (the alerts' queue is workflows/surveillance.py)."""
    breakers = conn.execute(text(
        "SELECT c.id, t.symbol, c.reference_price, c.trigger_price, c.tripped_at, c.resets_at"
        " FROM circuit_breaker_events c JOIN tokens t ON t.id = c.token_id"
        " WHERE c.resets_at > now() ORDER BY c.resets_at"))
    return [dict(r._mapping) for r in breakers]


def _like(fragment: str) -> str:
    return f"%{_escape(fragment)}%"


def _escape(fragment: str) -> str:
    """A LIKE pattern matching the fragment literally."""
    return fragment.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
