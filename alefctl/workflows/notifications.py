"""Notification rows that the console and the API show to the people who must act."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, text

from alefctl.ids import new_id


def notify_role(conn: Connection, audience: str, kind: str, subject: str, object_type: str,
                object_id: uuid.UUID) -> None:
    """Tell everyone with a role (e.g. kyc_reviewer) that something awaits them."""
    conn.execute(
        text("INSERT INTO notifications (id, audience, kind, subject, object_type, object_id)"
             " VALUES (:id, :aud, :kind, :subject, :otype, :oid)"),
        {"id": new_id(), "aud": audience, "kind": kind, "subject": subject, "otype": object_type,
         "oid": object_id},
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
