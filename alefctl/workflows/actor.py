"""Who is acting and from which front end (what they may do: workflows/policy.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from alefctl.db.audit import write_audit
from alefctl.db.system_users import OPERATOR_EMAIL
from alefctl.errors import NotFound, PermissionDenied

SOURCES = ("cli", "console", "api", "worker")


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a workflow runs, and the front end that called it."""

    user_id: uuid.UUID
    email: str
    role: str
    source: str

    def audit(self, conn: Connection, action: str, object_type: str, object_id, **changes) -> None:  # noqa: ANN001
        """Write the audit row for an action taken by this actor."""
        write_audit(
            conn,
            actor_id=self.user_id,
            source=self.source,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=changes.get("before"),
            after=changes.get("after"),
        )


def resolve_actor(conn: Connection, email: str | None, source: str) -> Actor:
    """Look up the acting user by email (default: the system operator); must be activated."""
    wanted = (email or OPERATOR_EMAIL).strip().lower()
    row = conn.execute(
        text("SELECT id, email, role, is_activated FROM users WHERE email = :e"), {"e": wanted}
    ).first()
    if row is None:
        raise NotFound(f"acting user not found: {wanted} (run `alefctl db init` first?)")
    if not row.is_activated:
        raise PermissionDenied(f"acting user {wanted} is deactivated")
    return Actor(user_id=row.id, email=row.email, role=row.role, source=source)
