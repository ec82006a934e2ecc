"""Write one audit_logs row per admin or issuer action, inside the action's transaction."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import Connection, text

from alefctl.ids import new_id
from alefctl.jsonfmt import to_jsonable


def write_audit(
    conn: Connection,
    *,
    actor_id: uuid.UUID | None,
    source: str,
    action: str,
    object_type: str,
    object_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit row; the caller's transaction makes it atomic with the action."""
    conn.execute(
        text(
            "INSERT INTO audit_logs (id, actor_id, action, object_type, object_id, before, after,"
            " source) VALUES (:id, :actor, :action, :otype, :oid, CAST(:before AS jsonb),"
            " CAST(:after AS jsonb), :source)"
        ),
        {
            "id": new_id(),
            "actor": actor_id,
            "action": action,
            "otype": object_type,
            "oid": object_id,
            "before": None if before is None else json.dumps(to_jsonable(before)),
            "after": None if after is None else json.dumps(to_jsonable(after)),
            "source": source,
        },
    )
