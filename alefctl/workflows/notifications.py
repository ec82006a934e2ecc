"""Notification rows that the console and the API show to the people who must act.

A notification is addressed to one user (user_id) or to everyone with a role (audience). Most
events are written by triggers on the rows that change (migration 0020: KYC decisions,
allocations, orders, trades, dividends, withdrawals, businesses, surveillance alerts), in the
same transaction; the rest by the workflows below. Read state is kept per reader
(notification_reads), so one admin reading a role notification leaves it unread for the others.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput, NotFound
from alefctl.ids import new_id
from alefctl.workflows import policy
from alefctl.workflows.account.pages import Page, check_query, PageQuery
from alefctl.workflows.actor import Actor

# Every kind a notification (and so a webhook subscription) may have.
KINDS = (
    "kyc.approved", "kyc.rejected", "kyc_submitted", "business.pending",
    "allocation.confirmed", "allocation.rejected", "allocation.minted", "offering_cancelled",
    "order.filled", "order.cancelled", "order.expired", "trade.settled", "settlement.failed",
    "dividend.paid", "dividend.pending_approval", "withdrawal.pending", "withdrawal.approved",
    "withdrawal.rejected", "approval.pending", "surveillance.alert", "deposit.received",
)
# Each new notification is announced on this channel by its trigger (migration 0020).
LISTEN_SQL = "LISTEN alef_notifications"
MINE = "(n.user_id = :u OR (n.user_id IS NULL AND n.audience = :role))"


def notify_role(conn: Connection, audience: str, kind: str, subject: str, object_type: str,
                object_id: uuid.UUID) -> None:
    """Tell everyone with a role (e.g. kyc_reviewer) that something awaits them."""
    conn.execute(
        text("INSERT INTO notifications (id, audience, kind, subject, object_type, object_id)"
             " VALUES (:id, :aud, :kind, :subject, :otype, :oid)"),
        {"id": new_id(), "aud": audience, "kind": kind, "subject": subject[:200],
         "otype": object_type, "oid": object_id},
    )


def notify_user(conn: Connection, user_id: uuid.UUID, kind: str, subject: str, object_type: str,
                object_id: uuid.UUID) -> None:
    """Tell one user that something happened to them (e.g. their subscription was refunded)."""
    conn.execute(
        text("INSERT INTO notifications (id, user_id, kind, subject, object_type, object_id)"
             " VALUES (:id, :u, :kind, :subject, :otype, :oid)"),
        {"id": new_id(), "u": user_id, "kind": kind, "subject": subject[:200],
         "otype": object_type, "oid": object_id},
    )


def _cursor(row: dict[str, Any]) -> str:
    raw = f"{int(row['read'])}|{row['created_at'].isoformat()}|{row['id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        read, created_at, row_id = raw.split("|")
        when = datetime.fromisoformat(created_at)
        if read not in ("0", "1") or when.tzinfo is None:
            raise ValueError(cursor)
        return int(read), when, uuid.UUID(row_id)
    except ValueError:
        raise InvalidInput("cursor is not one this API returned", field="cursor") from None


LIST_SQL = (
    "SELECT * FROM (SELECT n.id, n.kind, n.subject, n.object_type, n.object_id, n.payload,"
    " n.audience, n.created_at, r.read_at, (r.read_at IS NOT NULL)::int AS read"
    " FROM notifications n LEFT JOIN notification_reads r"
    " ON r.notification_id = n.id AND r.user_id = :u WHERE " + MINE +
    " AND (CAST(:since AS timestamptz) IS NULL OR n.created_at >= :since)"
    " AND (CAST(:until AS timestamptz) IS NULL OR n.created_at < :until)) x"
    " WHERE (CAST(:unread AS boolean) IS NOT TRUE OR x.read = 0)"
    " AND (CAST(:after_at AS timestamptz) IS NULL OR (x.read > :after_read) OR"
    " (x.read = :after_read AND (x.created_at, x.id) < (:after_at, :after_id)))"
    " ORDER BY x.read, x.created_at DESC, x.id DESC LIMIT :limit")


def list_notifications(conn: Connection, actor: Actor, query: PageQuery,
                       unread_only: bool = False) -> Page:
    """One page of the actor's notifications (their own and their role's): unread first, then
    newest first; `read_at` says when this reader read it (None: unread)."""
    policy.require(actor, "notification.read")
    check_query(query)
    after = _decode(query.cursor) if query.cursor else (0, None, None)
    rows = [dict(row._mapping) for row in conn.execute(text(LIST_SQL), {
        "u": actor.user_id, "role": actor.role, "since": query.since, "until": query.until,
        "unread": unread_only, "after_read": after[0], "after_at": after[1],
        "after_id": after[2], "limit": query.limit + 1})]
    more = len(rows) > query.limit
    items = rows[:query.limit]
    next_cursor = _cursor(items[-1]) if more else None
    for item in items:
        item["read"] = bool(item["read"])
    return Page(items, next_cursor)


def unread_count(conn: Connection, actor: Actor) -> int:
    """How many of the actor's notifications they have not read."""
    policy.require(actor, "notification.read")
    return conn.execute(text(
        "SELECT count(*) FROM notifications n WHERE " + MINE + " AND NOT EXISTS (SELECT 1"
        " FROM notification_reads r WHERE r.notification_id = n.id AND r.user_id = :u)"),
        {"u": actor.user_id, "role": actor.role}).scalar_one()


def mark_read(conn: Connection, actor: Actor, ids: list[str] | None = None,
              everything: bool = False) -> dict[str, int]:
    """Mark the actor's notifications read: the given ids, or all of them. An id that is not
    the actor's is refused (not found), so nobody learns of another's notifications."""
    policy.require(actor, "notification.read")
    if everything == bool(ids):
        raise InvalidInput("give either ids or all: true", field="ids")
    wanted = None
    if ids:
        try:
            wanted = [uuid.UUID(value) for value in ids]
        except ValueError:
            raise InvalidInput("ids must be notification ids", field="ids") from None
    found = conn.execute(text(
        "SELECT n.id FROM notifications n WHERE " + MINE +
        " AND (CAST(:ids AS uuid[]) IS NULL OR n.id = ANY(:ids))"),
        {"u": actor.user_id, "role": actor.role, "ids": wanted}).scalars().all()
    if wanted is not None and len(set(found)) != len(set(wanted)):
        raise NotFound("no such notification of yours")
    marked = conn.execute(text(
        "INSERT INTO notification_reads (notification_id, user_id)"
        " SELECT unnest(CAST(:ids AS uuid[])), :u ON CONFLICT DO NOTHING"),
        {"ids": list(found), "u": actor.user_id}).rowcount
    return {"marked": marked, "unread": unread_count(conn, actor)}
