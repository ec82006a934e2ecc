"""Businesses: issuers register; admins approve or reject."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.workflows import businesses
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["businesses"], route_class=EdgeRoute)


class BusinessBody(BaseModel):
    """A business to register."""

    company_name: str
    registration_number: str
    country: str
    industry: str
    alef_allocation_pct: Decimal = Decimal(0)


class BusinessDecision(BaseModel):
    """An admin's decision on a business."""

    status: Literal["active", "rejected"]
    reason: str | None = None


@router.post("/businesses", status_code=201)
def register(body: BusinessBody, request: Request,
             actor: Actor = Depends(acting("business.register"))) -> dict:
    """Register a business (issuer with KYC level 2)."""
    form = businesses.NewBusiness(body.company_name, body.registration_number, body.country,
                                  body.industry, body.alef_allocation_pct)
    with transaction(request) as conn:
        return out(businesses.register_business(conn, actor, form))


@router.get("/businesses")
def list_all(request: Request, status: str | None = None,
             actor: Actor = Depends(acting("business.read"))) -> list:
    """Businesses: all for admins, their own for issuers."""
    with transaction(request) as conn:
        return out(businesses.list_businesses(conn, actor, status))


@router.patch("/admin/businesses/{business_id}")
def decide(business_id: str, body: BusinessDecision, request: Request,
           actor: Actor = Depends(acting("business.review"))) -> dict:
    """Approve (status active) or reject with a reason."""
    with transaction(request) as conn:
        return out(businesses.review_business(conn, actor, business_id,
                                              approve=body.status == "active", reason=body.reason))
