"""The record-date snapshot: a dividend's payments are its holders at the record date.

Holders are read from positions_history (workflows/positions.py) as of the record date, not from
today's wallets: a holder who bought after the record date gets nothing, one who sold after it
is paid. A declaration whose record date has not passed has no payments yet
(snapshot_taken_at is NULL); `take_due_snapshots` takes every snapshot whose record date has
passed by the grace (settings dividends.snapshot_grace_s: a transaction that changed a position
just before the record date may still be committing), from `alefctl dividend snapshot-due`
(cron) and from `alefctl serve`. The platform treasury's own holding is paid only when the
declaration says so (treasury_included, from settings dividends.treasury_earns).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db.system_users import treasury_id
from alefctl.ids import UUID_V7_SQL
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.positions import POSITIONS_AS_OF

SNAPSHOT_SQL = (
    f"INSERT INTO dividend_payments (id, dividend_id, user_id, token_balance, gross_amount,"
    f" fee_amount, net_amount, token_quantity)"
    f" SELECT {UUID_V7_SQL}, :d, h.user_id, h.quantity, g.gross, g.fee, g.gross - g.fee,"
    f" h.quantity * :qty FROM ({POSITIONS_AS_OF}) h"
    f" CROSS JOIN LATERAL (SELECT trunc(h.quantity * :usd, 2) AS gross) r"
    f" CROSS JOIN LATERAL (SELECT r.gross, trunc(r.gross * :fee / 100, 2) AS fee) g"
    f" WHERE h.user_id <> :excluded ORDER BY h.user_id"
)
TOTALS_SQL = (
    "UPDATE dividend_declarations d SET holder_count = s.holders, total_held = s.held,"
    " total_gross_usd = trunc(:usd * s.held, 2), total_fee_usd = s.fee, total_net_usd = s.net,"
    " remainder_usd = trunc(:usd * s.held, 2) - s.gross, total_token_qty = s.qty,"
    " snapshot_taken_at = clock_timestamp(), updated_at = now()"
    " FROM (SELECT count(*) AS holders, coalesce(sum(token_balance), 0) AS held,"
    " coalesce(sum(gross_amount), 0) AS gross, coalesce(sum(fee_amount), 0) AS fee,"
    " coalesce(sum(net_amount), 0) AS net, coalesce(sum(token_quantity), 0) AS qty"
    " FROM dividend_payments WHERE dividend_id = :d) s WHERE d.id = :d"
)
NOBODY = uuid.UUID(int=0)


@dataclass(frozen=True)
class SnapshotRun:
    """What one snapshot-due run did: the declarations it snapshotted, with their holders."""

    taken: list[dict[str, object]]

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {"taken": self.taken}


def record_date_passed(record_date: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a record date is far enough behind now for its snapshot to be final."""
    return record_date + grace <= now


def excluded_holder(conn: Connection, treasury_included: bool) -> uuid.UUID:
    """The holder a snapshot leaves out: the treasury, unless its holding earns dividends."""
    return NOBODY if treasury_included else treasury_id(conn)


def take_snapshot(conn: Connection, dividend_id: uuid.UUID) -> int:
    """Write the payments of a declaration from its holders at its record date (its row locked
    by the caller, no snapshot taken yet); returns the holder count."""
    row = conn.execute(text(
        "SELECT token_id, record_date, per_token_usd, per_token_qty, fee_pct, treasury_included"
        " FROM dividend_declarations WHERE id = :d AND snapshot_taken_at IS NULL"),
        {"d": dividend_id}).one()
    excluded = excluded_holder(conn, row.treasury_included)
    params = {"d": dividend_id, "token": row.token_id, "as_of": row.record_date,
              "usd": row.per_token_usd or 0, "qty": row.per_token_qty or 0, "fee": row.fee_pct,
              "excluded": excluded}
    holders = conn.execute(text(SNAPSHOT_SQL), params).rowcount
    conn.execute(text(TOTALS_SQL), params)
    return holders


def take_due_snapshots(db: Engine, actor: Actor, grace: timedelta) -> SnapshotRun:
    """Snapshot every draft declaration whose record date has passed (operators, admins), each
    in its own transaction; safe to run twice at once (the declaration's row is locked)."""
    with db.begin() as conn:
        policy.require(actor, "dividend.snapshot")
        due = conn.execute(text(
            "SELECT id FROM dividend_declarations WHERE snapshot_taken_at IS NULL"
            " AND status = 'draft' AND record_date + :grace <= clock_timestamp()"
            " ORDER BY record_date, id"), {"grace": grace}).scalars().all()
    taken = []
    for dividend_id in due:
        with db.begin() as conn:
            locked = conn.execute(text(
                "SELECT id FROM dividend_declarations WHERE id = :d AND snapshot_taken_at IS NULL"
                " AND status = 'draft' FOR UPDATE SKIP LOCKED"), {"d": dividend_id}).first()
            if locked is None:
                continue
            holders = take_snapshot(conn, dividend_id)
            actor.audit(conn, "dividend.snapshot", "dividend_declaration", dividend_id,
                        after={"holder_count": holders})
            taken.append({"dividend_id": dividend_id, "holder_count": holders})
    return SnapshotRun(taken)
