"""The audit log for investigators: verify its hash chain, list its rows (admins).

The chain itself (what is hashed, in which order, and why) is described in alefctl/db/audit.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.db import audit
from alefctl.errors import InvalidInput
from alefctl.workflows import dashboard, policy

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.workflows.actor import Actor

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as investigators see it (the stable JSON shape of `audit list`)."""

    id: Any
    created_at: datetime
    actor_email: str | None
    action: str
    object_type: str
    object_id: Any
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape."""
        return dict(vars(self))


def verify_chain(engine: Engine, actor: Actor) -> audit.ChainReport:
    """Walk the whole chain in one read-only REPEATABLE READ snapshot (admins, operators): the
    rows and the head are of one moment, whatever commits meanwhile."""
    policy.require(actor, "audit.verify")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(text("SET TRANSACTION READ ONLY"))
            return audit.verify(conn)


def list_entries(conn: Connection, actor: Actor, *, actor_email: str | None = None,
                 action_prefix: str | None = None, since: datetime | None = None,
                 limit: int = 100) -> list[AuditEntry]:
    """Audit rows, newest first, by one actor, of actions starting with a prefix, since a time
    (admins)."""
    policy.require(actor, "audit.read")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    rows = dashboard.audit_log(conn, limit=limit, actor_email=actor_email,
                               action_prefix=action_prefix, since=since)
    return [AuditEntry(id=r["id"], created_at=r["created_at"],
                       actor_email=None if r["actor"] == "-" else r["actor"],
                       action=r["action"], object_type=r["object_type"],
                       object_id=r["object_id"], before=r["before"], after=r["after"],
                       source=r["source"]) for r in rows]
