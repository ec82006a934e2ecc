"""Four-eyes: the admins' queue of requests that wait for a second admin."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.state import server_state
from alefctl.workflows import approvals
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["approvals"], route_class=EdgeRoute)


class RejectBody(BaseModel):
    """Why a request is turned down."""

    reason: str = Field(min_length=1, max_length=1000)


@router.get("/admin/approvals")
def list_requests(request: Request, status: str | None = None, limit: int = 200,
                  actor: Actor = Depends(acting("approval.read"))) -> list:
    """Approval requests, newest first (filter: status)."""
    with transaction(request) as conn:
        return out(approvals.list_requests(conn, actor, status, limit))


@router.get("/admin/approvals/{request_id}")
def show(request_id: str, request: Request, actor: Actor = Depends(acting("approval.read"))) -> dict:
    """One request with its parameters, decision and result."""
    with transaction(request) as conn:
        return out(approvals.get_request(conn, actor, request_id))


@router.post("/admin/approvals/{request_id}/approve")
def approve(request_id: str, request: Request,
            actor: Actor = Depends(acting("approval.approve"))) -> dict:
    """Approve another admin's request: its operation runs once (403 for the requester, 409
    once decided)."""
    return out(approvals.approve(server_state(request).db, actor, request_id))


@router.post("/admin/approvals/{request_id}/reject")
def reject(request_id: str, body: RejectBody, request: Request,
           actor: Actor = Depends(acting("approval.reject"))) -> dict:
    """Turn a request down with a reason; nothing runs."""
    with transaction(request) as conn:
        return out(approvals.reject(conn, actor, request_id, body.reason))
