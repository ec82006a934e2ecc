"""Surveillance triage: the compliance queue of alerts, for admins (full ids, as every route)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.workflows import surveillance
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["surveillance"], route_class=EdgeRoute)


class AckBody(BaseModel):
    """Who reviews the alert (default: the caller), and an optional note."""

    assignee_id: uuid.UUID | None = None
    note: str | None = Field(default=None, max_length=1000)


class ReasonBody(BaseModel):
    """Why the alert is dismissed or escalated."""

    reason: str = Field(min_length=1, max_length=1000)


@router.get("/admin/surveillance/alerts")
def list_alerts(request: Request, status: str = "unresolved", token_id: uuid.UUID | None = None,
                kind: str | None = None, assignee_id: uuid.UUID | None = None, limit: int = 200,
                actor: Actor = Depends(acting("surveillance.read"))) -> list:
    """Alerts, oldest first; status is one status, `unresolved` (open or acknowledged) or `all`."""
    statuses = {"unresolved": surveillance.UNRESOLVED, "all": surveillance.STATUSES}.get(
        status, (status,))
    with transaction(request) as conn:
        return out(surveillance.list_alerts(conn, actor, statuses, token_id=token_id, kind=kind,
                                            assignee_id=assignee_id, limit=limit))


@router.get("/admin/surveillance/alerts/{alert_id}")
def show(alert_id: str, request: Request,
         actor: Actor = Depends(acting("surveillance.read"))) -> dict:
    """One alert with its notes and evidence: the orders and trades involved, with times."""
    with transaction(request) as conn:
        return out(surveillance.get_alert(conn, actor, alert_id))


@router.post("/admin/surveillance/alerts/{alert_id}/ack")
def ack(alert_id: str, body: AckBody, request: Request,
        actor: Actor = Depends(acting("surveillance.triage"))) -> dict:
    """Acknowledge an open alert (409 once it is past open)."""
    with transaction(request) as conn:
        return out(surveillance.acknowledge(conn, actor, alert_id, assignee_id=body.assignee_id,
                                            note=body.note))


@router.post("/admin/surveillance/alerts/{alert_id}/dismiss")
def dismiss(alert_id: str, body: ReasonBody, request: Request,
            actor: Actor = Depends(acting("surveillance.triage"))) -> dict:
    """Close an alert as no abuse, with a reason (409 once resolved)."""
    with transaction(request) as conn:
        return out(surveillance.dismiss(conn, actor, alert_id, body.reason))


@router.post("/admin/surveillance/alerts/{alert_id}/escalate")
def escalate(alert_id: str, body: ReasonBody, request: Request,
             actor: Actor = Depends(acting("surveillance.triage"))) -> dict:
    """Close an alert as needing action beyond the platform, with a reason (409 once resolved)."""
    with transaction(request) as conn:
        return out(surveillance.escalate(conn, actor, alert_id, body.reason))
