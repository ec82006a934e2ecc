"""Surveillance triage: the queue of alerts the detectors raised (wash trading, spoofing,
layering), worked by a compliance officer (an admin).

The server's detectors (engine/surveillance.py, recorded by workflows/trading/guards.py) insert
an alert with the book events that support it. Here an alert moves along SURVEILLANCE_FLOW
(workflows/transitions.py): acknowledged (it has an assignee), then dismissed or escalated with a
reason; each step is one transaction with its audit row and may append a note. Its evidence, the
orders and trades those events name, is read from their tables when the alert is shown
(workflows/surveillance_evidence.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput, NotFound
from alefctl.ids import parse_id
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.surveillance_evidence import Evidence, evidence_of
from alefctl.workflows.transitions import SURVEILLANCE_FLOW, transition

STATUSES = ("open", "acknowledged", "dismissed", "escalated")
UNRESOLVED = ("open", "acknowledged")
KINDS = ("wash_trading", "spoofing", "layering")


@dataclass(frozen=True)
class Alert:
    """One alert and where it stands; `evidence` is filled by get_alert only."""

    id: uuid.UUID
    token: str  # symbol
    token_id: uuid.UUID
    kind: str
    status: str
    user: str | None  # the suspected user's email
    detail: str
    detected_at: datetime
    assignee: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    notes: list[dict[str, Any]]
    evidence: Evidence | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        data = asdict(self)
        if self.evidence is None:
            data.pop("evidence")
        return data


_COLUMNS = """a.id, t.symbol AS token, a.token_id, a.kind, a.status, u.email AS user,
 coalesce(a.evidence->>'detail', '') AS detail, a.created_at AS detected_at,
 asg.email AS assignee, ack.email AS acknowledged_by, a.acknowledged_at,
 res.email AS resolved_by, a.resolved_at, a.notes"""
_FROM = """surveillance_alerts a JOIN tokens t ON t.id = a.token_id
 LEFT JOIN users u ON u.id = a.user_id LEFT JOIN users asg ON asg.id = a.assignee_id
 LEFT JOIN users ack ON ack.id = a.acknowledged_by LEFT JOIN users res ON res.id = a.resolved_by"""


def list_alerts(conn: Connection, actor: Actor, statuses: Sequence[str] = UNRESOLVED, *,
                token_id: str | uuid.UUID | None = None, kind: str | None = None,
                assignee_id: str | uuid.UUID | None = None, limit: int = 200) -> list[Alert]:
    """Alerts of the given statuses, oldest first (the queue's order), optionally filtered."""
    policy.require(actor, "surveillance.read")
    for status in statuses:
        _one_of(status, STATUSES, "status")
    if kind is not None:
        _one_of(kind, KINDS, "kind")
    rows = conn.execute(text(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE a.status = ANY(:statuses)"
        " AND (CAST(:token AS uuid) IS NULL OR a.token_id = :token)"
        " AND (CAST(:kind AS text) IS NULL OR a.kind = :kind)"
        " AND (CAST(:assignee AS uuid) IS NULL OR a.assignee_id = :assignee)"
        " ORDER BY a.created_at, a.id LIMIT :limit"),
        {"statuses": list(statuses), "token": _optional_id(token_id, "token_id"), "kind": kind,
         "assignee": _optional_id(assignee_id, "assignee_id"),
         "limit": max(1, min(int(limit), 1000))})
    return [Alert(**row._mapping) for row in rows]


def get_alert(conn: Connection, actor: Actor, ref: str | uuid.UUID) -> Alert:
    """One alert with its evidence: the orders and trades involved, with their times."""
    policy.require(actor, "surveillance.read")
    alert_id = parse_id(str(ref), field="alert")
    found = _fetch(conn, alert_id)
    stored = conn.execute(text("SELECT evidence FROM surveillance_alerts WHERE id = :id"),
                          {"id": alert_id}).scalar_one()
    return Alert(**{**asdict(found), "evidence": evidence_of(conn, found.token_id, stored)})


def acknowledge(conn: Connection, actor: Actor, ref: str | uuid.UUID, *,
                assignee_id: str | uuid.UUID | None = None, note: str | None = None) -> Alert:
    """Take an open alert into review, assigned to the actor or to another admin."""
    policy.require(actor, "surveillance.triage")
    assignee = _optional_id(assignee_id, "assignee_id") or actor.user_id
    _require_triager(conn, assignee)
    return _step(conn, actor, ref, "acknowledge", note, assignee_id=assignee,
                 acknowledged_by=actor.user_id, acknowledged_at=_now(conn))


def dismiss(conn: Connection, actor: Actor, ref: str | uuid.UUID, reason: str) -> Alert:
    """Close an alert as no abuse, with the reason."""
    policy.require(actor, "surveillance.triage")
    why = validation.non_empty(reason or "", field="reason", max_length=1000)
    return _step(conn, actor, ref, "dismiss", why, resolved_by=actor.user_id, resolved_at=_now(conn))


def escalate(conn: Connection, actor: Actor, ref: str | uuid.UUID, reason: str) -> Alert:
    """Close an alert as needing action beyond the platform (compliance, the regulator)."""
    policy.require(actor, "surveillance.triage")
    why = validation.non_empty(reason or "", field="reason", max_length=1000)
    return _step(conn, actor, ref, "escalate", why, resolved_by=actor.user_id,
                 resolved_at=_now(conn))


def _step(conn: Connection, actor: Actor, ref: str | uuid.UUID, action: str, note: str | None,
          **changes: Any) -> Alert:
    """One transition with its note and audit row, in the caller's transaction."""
    alert_id = parse_id(str(ref), field="alert")
    before = conn.execute(text("SELECT status FROM surveillance_alerts WHERE id = :id FOR UPDATE"),
                          {"id": alert_id}).scalar()
    transition(conn, "surveillance_alerts", alert_id, SURVEILLANCE_FLOW, action, returning="id",
               **changes)
    text_note = validation.non_empty(note, field="note", max_length=1000) if note else None
    if text_note is not None:
        entry = {"at": _now(conn).isoformat().replace("+00:00", "Z"), "by": actor.email,
                 "action": action, "text": text_note}
        conn.execute(text("UPDATE surveillance_alerts SET notes = notes || CAST(:entry AS jsonb)"
                          " WHERE id = :id"), {"entry": json.dumps([entry]), "id": alert_id})
    target = SURVEILLANCE_FLOW[action][1]
    actor.audit(conn, f"surveillance.{action}", "surveillance_alert", alert_id,
                before={"status": before},
                after={"status": target, "note": text_note,
                       **{k: str(v) for k, v in changes.items() if k.endswith("_id")}})
    return _fetch(conn, alert_id)


def _fetch(conn: Connection, alert_id: uuid.UUID) -> Alert:
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM {_FROM} WHERE a.id = :id"),
                       {"id": alert_id}).first()
    if row is None:
        raise NotFound(f"alert not found: {alert_id}")
    return Alert(**row._mapping)


def _require_triager(conn: Connection, user_id: uuid.UUID) -> None:
    """An alert is assigned only to an active user who may triage alerts."""
    row = conn.execute(text("SELECT email, role, is_activated FROM users WHERE id = :id"),
                       {"id": user_id}).first()
    if row is None:
        raise NotFound(f"user not found: {user_id}", field="assignee")
    if row.role not in policy.roles_for("surveillance.triage") or not row.is_activated:
        raise InvalidInput(f"{row.email} cannot be assigned alerts (needs an active"
                           f" {' or '.join(policy.roles_for('surveillance.triage'))})",
                           field="assignee")


def _optional_id(value: str | uuid.UUID | None, field: str) -> uuid.UUID | None:
    return None if value is None else parse_id(str(value), field=field)


def _one_of(value: str, allowed: Sequence[str], field: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)} (got {value!r})",
                           field=field)


def _now(conn: Connection) -> datetime:
    return conn.execute(text("SELECT now()")).scalar_one()
