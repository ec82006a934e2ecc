"""Businesses: an issuer registers one, an admin approves or rejects it."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from alefctl.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from alefctl.ids import new_id, parse_id
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.transitions import BUSINESS_FLOW, transition
from alefctl.workflows.validation import percentage

MIN_ISSUER_KYC_LEVEL = 2
COLUMNS = (
    "id, owner_id, company_name, registration_number, country, industry, alef_allocation_pct,"
    " status, rejection_reason, reviewed_by, reviewed_at, created_at"
)


@dataclass(frozen=True)
class Business:
    """A registered business."""

    id: uuid.UUID
    owner_id: uuid.UUID
    company_name: str
    registration_number: str
    country: str
    industry: str
    alef_allocation_pct: Decimal
    status: str
    rejection_reason: str | None
    reviewed_by: uuid.UUID | None
    reviewed_at: datetime | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class NewBusiness:
    """What an issuer sends to register a business."""

    company_name: str
    registration_number: str
    country: str
    industry: str
    alef_allocation_pct: str | Decimal = "0"


def register_business(conn: Connection, actor: Actor, form: NewBusiness) -> Business:
    """Register a business (issuers with approved KYC of level 2 or more); status pending."""
    policy.require(actor, "business.register")
    level, status = conn.execute(
        text("SELECT kyc_level, kyc_status FROM users WHERE id = :u"), {"u": actor.user_id}
    ).one()
    if status != "approved" or level < MIN_ISSUER_KYC_LEVEL:
        raise PermissionDenied(f"registering a business needs approved KYC of level"
                               f" {MIN_ISSUER_KYC_LEVEL} (yours: {status}, level {level})")
    params = {
        "id": new_id(), "owner": actor.user_id,
        "name": validation.non_empty(form.company_name, field="company_name"),
        "reg": validation.non_empty(form.registration_number, field="registration_number",
                                    max_length=100),
        "country": validation.country_code(form.country),
        "industry": validation.non_empty(form.industry, field="industry", max_length=100),
        "pct": percentage(form.alef_allocation_pct, field="alef_allocation_pct"),
    }
    try:
        with conn.begin_nested():
            row = conn.execute(text(
                "INSERT INTO businesses (id, owner_id, company_name, registration_number, country,"
                " industry, alef_allocation_pct) VALUES (:id, :owner, :name, :reg, :country,"
                f" :industry, :pct) RETURNING {COLUMNS}"), params).one()
    except IntegrityError:
        raise Conflict(f"business {params['reg']} is already registered in {params['country']}",
                       field="registration_number") from None
    business = Business(**row._mapping)
    actor.audit(conn, "business.register", "business", business.id, after=business.to_dict())
    return business


def get_business(conn: Connection, ref: str, *, for_update: bool = False) -> Business:
    """A business by id, or NotFound."""
    lock = " FOR UPDATE" if for_update else ""
    row = conn.execute(text(f"SELECT {COLUMNS} FROM businesses WHERE id = :id{lock}"),
                       {"id": parse_id(ref, field="business")}).first()
    if row is None:
        raise NotFound(f"business not found: {ref}")
    return Business(**row._mapping)


def list_businesses(conn: Connection, actor: Actor, status: str | None = None) -> list[Business]:
    """Admins see every business; issuers see their own."""
    owner = None if policy.may(actor, "business.read.others") else actor.user_id
    rows = conn.execute(text(
        f"SELECT {COLUMNS} FROM businesses WHERE (CAST(:owner AS uuid) IS NULL OR owner_id = :owner)"
        " AND (CAST(:status AS text) IS NULL OR status = :status) ORDER BY created_at, id"),
        {"owner": owner, "status": status})
    return [Business(**row._mapping) for row in rows]


def review_business(conn: Connection, actor: Actor, ref: str, *, approve: bool,
                    reason: str | None = None) -> Business:
    """Approve (status active) or reject with a reason (admins only)."""
    policy.require(actor, "business.review")
    business_id = parse_id(ref, field="business")
    changes: dict[str, Any] = {"reviewed_by": actor.user_id,
                               "reviewed_at": datetime.now().astimezone()}
    if not approve:
        if not reason or not reason.strip():
            raise InvalidInput("a rejection needs a reason", field="reason")
        changes["rejection_reason"] = reason.strip()
    action = "approve" if approve else "reject"
    row = transition(conn, "businesses", business_id, BUSINESS_FLOW, action, COLUMNS, **changes)
    business = Business(**row._mapping)
    actor.audit(conn, f"business.{action}", "business", business.id,
                before={"status": "pending"}, after={"status": business.status, "reason": reason})
    return business
