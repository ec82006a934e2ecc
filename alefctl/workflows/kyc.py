"""Manual KYC review: submit, queue, view (opens the review), approve or reject."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput, PermissionDenied
from alefctl.ids import new_id, parse_id
from alefctl.pii import PiiCipher, mask
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.notifications import notify_role
from alefctl.workflows.transitions import KYC_FLOW, transition

DOCUMENT_TYPES = ("passport", "emirates_id", "national_id", "drivers_license")
STATUSES = ("pending", "in_review", "approved", "rejected")
FATCA_BLOCKED_NATIONALITIES = ("US", "USA")
APPLICATION_COLUMNS = (
    "k.id, k.user_id, u.email, k.status, k.full_name, k.nationality, k.date_of_birth,"
    " k.document_type, k.document_number, k.document_number_last4, k.kyc_level,"
    " k.reviewed_by, k.reviewed_at, k.review_notes, k.rejection_reason, k.submitted_at"
)


@dataclass(frozen=True)
class KycSubmission:
    """What an applicant sends."""

    full_name: str
    nationality: str
    document_type: str
    document_number: str
    date_of_birth: date | None = None


@dataclass(frozen=True)
class KycApplication:
    """An application; document_number is masked unless a reviewer opened it."""

    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    status: str
    full_name: str
    nationality: str
    date_of_birth: date | None
    document_type: str
    document_number: str
    kyc_level: int | None
    reviewed_by: uuid.UUID | None
    reviewed_at: datetime | None
    review_notes: str | None
    rejection_reason: str | None
    submitted_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def accreditation_for(level: int) -> str:
    """The spec's rule: level >= 3 institutional, >= 2 professional, else retail."""
    return "institutional" if level >= 3 else "professional" if level >= 2 else "retail"


def fatca_for(nationality: str) -> str:
    """The spec's rule: US nationality is blocked, anyone else clear."""
    return "blocked" if nationality in FATCA_BLOCKED_NATIONALITIES else "clear"


def submit_kyc(conn: Connection, actor: Actor, form: KycSubmission, cipher: PiiCipher) -> KycApplication:
    """File the actor's application; refused while one is open or after approval."""
    document_type = form.document_type.strip().lower()
    if document_type not in DOCUMENT_TYPES:
        raise InvalidInput(f"document_type must be one of {', '.join(DOCUMENT_TYPES)}",
                           field="document_type")
    nationality = form.nationality.strip().upper()
    if not (nationality.isascii() and nationality.isalpha() and len(nationality) in (2, 3)):
        raise InvalidInput("nationality must be an ISO country code (e.g. AE, GB, US)",
                           field="nationality")
    number = validation.non_empty(form.document_number, field="document_number", max_length=50)
    status = conn.execute(text("SELECT kyc_status FROM users WHERE id = :u FOR UPDATE"),
                          {"u": actor.user_id}).scalar_one()
    if status in ("pending", "in_review"):
        raise Conflict("a KYC application is already open for this user")
    if status == "approved":
        raise Conflict("KYC is already approved for this user")
    application_id = new_id()
    conn.execute(
        text("INSERT INTO kyc_applications (id, user_id, full_name, nationality, date_of_birth,"
             " document_type, document_number, document_number_last4)"
             " VALUES (:id, :u, :name, :nat, :dob, :type, :number, :last4)"),
        {"id": application_id, "u": actor.user_id,
         "name": validation.non_empty(form.full_name, field="full_name"), "nat": nationality,
         "dob": form.date_of_birth, "type": document_type, "number": cipher.encrypt(number),
         "last4": number[-4:]},
    )
    conn.execute(text("UPDATE users SET kyc_status = 'pending', updated_at = now() WHERE id = :u"),
                 {"u": actor.user_id})
    notify_role(conn, "kyc_reviewer", "kyc_submitted", f"KYC application from {actor.email}",
                "kyc_application", application_id)
    actor.audit(conn, "kyc.submit", "kyc_application", application_id,
                after={"nationality": nationality, "document_type": document_type})
    return _load(conn, application_id, cipher=None)


def list_kyc(conn: Connection, actor: Actor, status: str | None = None) -> list[KycApplication]:
    """The review queue, oldest submission first; document numbers masked."""
    policy.require(actor, "kyc.review")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
    rows = conn.execute(
        text(f"SELECT {APPLICATION_COLUMNS} FROM kyc_applications k JOIN users u ON u.id = k.user_id"
             " WHERE (CAST(:status AS text) IS NULL OR k.status = :status)"
             " ORDER BY k.submitted_at, k.id"),
        {"status": status},
    )
    return [_application(row, None) for row in rows]


def open_kyc(conn: Connection, actor: Actor, application_ref: str, cipher: PiiCipher) -> KycApplication:
    """Full details with decrypted PII for reviewers; the first view starts the review, and
    every view is audited (who read whose personal data, and when)."""
    policy.require(actor, "kyc.review")
    application = _load(conn, parse_id(application_ref, field="application"), cipher=None)
    if application.user_id == actor.user_id:
        raise PermissionDenied("reviewers may not open their own KYC application")
    if application.status == "pending":
        transition(conn, "kyc_applications", application.id, KYC_FLOW, "open", returning="id")
        conn.execute(text("UPDATE users SET kyc_status = 'in_review' WHERE id = :u"),
                     {"u": application.user_id})
        actor.audit(conn, "kyc.open", "kyc_application", application.id,
                    before={"status": "pending"}, after={"status": "in_review"})
    else:
        actor.audit(conn, "kyc.view", "kyc_application", application.id,
                    after={"status": application.status})
    return _load(conn, application.id, cipher=cipher)


def review_kyc(conn: Connection, actor: Actor, application_ref: str, *, approve: bool,
               kyc_level: int = 2, reason: str | None = None,
               notes: str | None = None) -> KycApplication:
    """Approve (with a level) or reject (with a reason); the user row changes in the same step."""
    policy.require(actor, "kyc.review")
    application_id = parse_id(application_ref, field="application")
    current = _load(conn, application_id, cipher=None, for_update=True)
    if current.user_id == actor.user_id:
        raise PermissionDenied("reviewers may not review their own KYC application")
    if approve:
        if kyc_level not in (1, 2, 3):
            raise InvalidInput("kyc_level must be 1, 2 or 3", field="kyc_level")
        transition(conn, "kyc_applications", application_id, KYC_FLOW, "approve", returning="id",
                   reviewed_by=actor.user_id, reviewed_at=datetime.now().astimezone(),
                   review_notes=notes, kyc_level=kyc_level)
        user_changes = {"kyc_status": "approved", "kyc_level": kyc_level,
                        "accreditation_status": accreditation_for(kyc_level),
                        "fatca_status": fatca_for(current.nationality)}
    else:
        if not reason or not reason.strip():
            raise InvalidInput("a rejection needs a reason", field="reason")
        transition(conn, "kyc_applications", application_id, KYC_FLOW, "reject", returning="id",
                   reviewed_by=actor.user_id, reviewed_at=datetime.now().astimezone(),
                   review_notes=notes, rejection_reason=reason.strip())
        user_changes = {"kyc_status": "rejected"}
    assignments = ", ".join(f"{column} = :{column}" for column in user_changes)
    conn.execute(text(f"UPDATE users SET {assignments}, updated_at = now() WHERE id = :u"),
                 {**user_changes, "u": current.user_id})
    actor.audit(conn, "kyc.approve" if approve else "kyc.reject", "kyc_application",
                application_id, before={"status": current.status},
                after={**user_changes, "reason": reason, "notes": notes})
    return _load(conn, application_id, cipher=None)


def _load(conn: Connection, application_id: uuid.UUID, cipher: PiiCipher | None,
          for_update: bool = False) -> KycApplication:
    lock = " FOR UPDATE OF k" if for_update else ""
    row = conn.execute(
        text(f"SELECT {APPLICATION_COLUMNS} FROM kyc_applications k JOIN users u ON u.id = k.user_id"
             f" WHERE k.id = :id{lock}"),
        {"id": application_id},
    ).first()
    if row is None:
        from alefctl.errors import NotFound

        raise NotFound(f"KYC application not found: {application_id}")
    return _application(row, cipher)


def _application(row: Any, cipher: PiiCipher | None) -> KycApplication:
    data = dict(row._mapping)
    last4 = data.pop("document_number_last4")
    encrypted = data.pop("document_number")
    data["document_number"] = cipher.decrypt(encrypted) if cipher else mask(last4)
    return KycApplication(**data)
