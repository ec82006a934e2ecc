"""Users: create, find, list, activate and deactivate."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from alefctl.errors import Conflict, InvalidInput, NotFound
from alefctl.ids import new_id
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor

ROLES = ("investor", "issuer", "admin", "kyc_reviewer", "operator")
USER_COLUMNS = (
    "id, email, full_name, role, is_system, is_activated, country, kyc_status, kyc_level,"
    " accreditation_status, fatca_status, wallet_address, fiat_balance, created_at"
)


@dataclass(frozen=True)
class User:
    """A platform user as every front end shows it."""

    id: uuid.UUID
    email: str
    full_name: str
    role: str
    is_system: bool
    is_activated: bool
    country: str | None
    kyc_status: str
    kyc_level: int
    accreditation_status: str
    fatca_status: str
    wallet_address: str | None
    fiat_balance: Decimal
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class NewUser:
    """Input of create_user."""

    email: str
    full_name: str
    role: str = "investor"
    wallet_address: str | None = None
    country: str | None = None


def create_user(conn: Connection, actor: Actor, new: NewUser) -> User:
    """Create a user (admins only); email and wallet address must be unused."""
    policy.require(actor, "user.create")
    if new.role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)} (got {new.role!r})", field="role")
    params = {
        "id": new_id(),
        "email": validation.email_address(new.email),
        "name": validation.non_empty(new.full_name, field="full_name"),
        "role": new.role,
        "wallet": validation.evm_address(new.wallet_address) if new.wallet_address else None,
        "country": validation.country_code(new.country) if new.country else None,
    }
    try:
        with conn.begin_nested():
            row = conn.execute(
                text(
                    "INSERT INTO users (id, email, full_name, role, wallet_address, country)"
                    f" VALUES (:id, :email, :name, :role, :wallet, :country) RETURNING {USER_COLUMNS}"
                ),
                params,
            ).one()
    except IntegrityError as exc:
        raise _duplicate(exc, params) from None
    user = User(**row._mapping)
    actor.audit(conn, "user.create", "user", user.id, after=user.to_dict())
    return user


def get_user(conn: Connection, ref: str, *, for_update: bool = False) -> User:
    """Find a user by id or email, or raise NotFound."""
    column = "id" if _is_uuid(ref) else "email"
    value: Any = uuid.UUID(ref) if column == "id" else ref.strip().lower()
    lock = " FOR UPDATE" if for_update else ""
    row = conn.execute(
        text(f"SELECT {USER_COLUMNS} FROM users WHERE {column} = :v{lock}"), {"v": value}
    ).first()
    if row is None:
        raise NotFound(f"user not found: {ref}")
    return User(**row._mapping)


def list_users(conn: Connection, *, role: str | None = None, limit: int = 500) -> list[User]:
    """Users in creation order, optionally of one role."""
    if role is not None and role not in (*ROLES, "system"):
        raise InvalidInput(f"role must be one of {', '.join(ROLES)} (got {role!r})", field="role")
    where = "WHERE role = :role" if role else ""
    rows = conn.execute(
        text(f"SELECT {USER_COLUMNS} FROM users {where} ORDER BY created_at, id LIMIT :limit"),
        {"role": role, "limit": limit},
    )
    return [User(**row._mapping) for row in rows]


def set_activation(conn: Connection, actor: Actor, ref: str, activated: bool) -> tuple[User, bool]:
    """Activate or deactivate a user (admins only); returns (user, changed)."""
    policy.require(actor, "user.activate")
    user = get_user(conn, ref, for_update=True)
    if user.is_system:
        raise Conflict(f"{user.email} is a system user and cannot be changed")
    if user.is_activated == activated:
        return user, False
    conn.execute(
        text("UPDATE users SET is_activated = :a, updated_at = now() WHERE id = :id"),
        {"a": activated, "id": user.id},
    )
    action = "user.activate" if activated else "user.deactivate"
    actor.audit(conn, action, "user", user.id, before={"is_activated": user.is_activated},
                after={"is_activated": activated})
    return get_user(conn, str(user.id)), True


def _is_uuid(ref: str) -> bool:
    try:
        uuid.UUID(ref)
    except ValueError:
        return False
    return True


def _duplicate(exc: IntegrityError, params: dict[str, Any]) -> Exception:
    message = str(exc.orig)
    if "users_email_key" in message:
        return Conflict(f"a user with email {params['email']} already exists", field="email")
    if "users_wallet_address_key" in message:
        return Conflict(f"wallet address {params['wallet']} belongs to another user",
                        field="wallet_address")
    return exc
