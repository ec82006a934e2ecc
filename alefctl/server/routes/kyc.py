"""KYC: investors submit; reviewers list, open and decide."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.state import server_state
from alefctl.workflows import eligibility, kyc
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["kyc"], route_class=EdgeRoute)


class KycBody(BaseModel):
    """A KYC application."""

    full_name: str = Field(max_length=200)
    nationality: str = Field(max_length=3)
    document_type: str
    document_number: str = Field(max_length=50)
    date_of_birth: date | None = None


class RevokeBody(BaseModel):
    """Why an approved KYC is revoked (kept in the audit log)."""

    reason: str = Field(max_length=500)


class ReviewBody(BaseModel):
    """A reviewer's decision."""

    decision: Literal["approve", "reject"]
    kyc_level: int = 2
    reason: str | None = None
    notes: str | None = None


@router.post("/kyc", status_code=201)
def submit(body: KycBody, request: Request, actor: Actor = Depends(acting("kyc.submit"))) -> dict:
    """Submit the caller's KYC application."""
    form = kyc.KycSubmission(body.full_name, body.nationality, body.document_type,
                             body.document_number, body.date_of_birth)
    with transaction(request) as conn:
        return out(kyc.submit_kyc(conn, actor, form, server_state(request).cipher))


@router.get("/admin/kyc")
def queue(request: Request, status: str | None = None, actor: Actor = Depends(acting("kyc.review"))) -> list:
    """The review queue, oldest first; document numbers masked."""
    with transaction(request) as conn:
        return out(kyc.list_kyc(conn, actor, status))


@router.get("/admin/kyc/{application_id}")
def detail(application_id: str, request: Request, actor: Actor = Depends(acting("kyc.review"))) -> dict:
    """Full details with personal data; the first view starts the review."""
    with transaction(request) as conn:
        return out(kyc.open_kyc(conn, actor, application_id, server_state(request).cipher))


@router.post("/admin/kyc/{application_id}/review")
def review(application_id: str, body: ReviewBody, request: Request,
           actor: Actor = Depends(acting("kyc.review"))) -> dict:
    """Approve with a level, or reject with a reason."""
    with transaction(request) as conn:
        return out(kyc.review_kyc(conn, actor, application_id, approve=body.decision == "approve",
                                  kyc_level=body.kyc_level, reason=body.reason, notes=body.notes))


@router.post("/admin/kyc/users/{user_id}/revoke")
def revoke(user_id: str, body: RevokeBody, request: Request,
           actor: Actor = Depends(acting("kyc.revoke"))) -> dict:
    """Revoke a user's approved KYC (they may resubmit); their open orders are cancelled."""
    return out(eligibility.revoke_kyc(server_state(request).db, actor, user_id, body.reason))
