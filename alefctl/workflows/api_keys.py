"""API keys: bearer credentials for the HTTP API, stored hashed and shown once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.db import locks
from alefctl.errors import Conflict, NotFound, PermissionDenied
from alefctl.ids import new_id
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.users import NewUser, create_user, get_user

KEY_PREFIX = "alef_"
PREFIX_LENGTH = 13  # "alef_" + 8 characters: enough to name a key in lists and logs


@dataclass(frozen=True)
class ApiKey:
    """A key's public record; the secret itself is never stored."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    key_prefix: str
    created_at: datetime
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def hash_key(secret: str) -> str:
    """The stored form of a key (SHA-256 hex; keys are random, so no salt is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(conn: Connection, actor: Actor, user_ref: str, name: str) -> tuple[ApiKey, str]:
    """Create a key for a user (admins, or users for themselves); returns (record, secret)."""
    user = get_user(conn, user_ref)
    if actor.user_id != user.id:
        policy.require(actor, "api_key.manage.others")
    if user.is_system:
        raise Conflict(f"{user.email} is a system user and cannot have API keys")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        text(
            "INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash)"
            " VALUES (:id, :uid, :name, :prefix, :hash)"
            " RETURNING id, user_id, name, key_prefix, created_at, revoked_at"
        ),
        {
            "id": new_id(),
            "uid": user.id,
            "name": validation.non_empty(name, field="name", max_length=100),
            "prefix": secret[:PREFIX_LENGTH],
            "hash": hash_key(secret),
        },
    ).one()
    key = ApiKey(**row._mapping)
    actor.audit(conn, "api_key.create", "api_key", key.id,
                after={"user_id": user.id, "name": key.name, "key_prefix": key.key_prefix})
    return key, secret


def revoke_api_key(conn: Connection, actor: Actor, key_ref: str) -> tuple[ApiKey, bool]:
    """Revoke a key by id or prefix (admins, or the key's owner); returns (key, changed)."""
    column = "key_prefix" if key_ref.startswith(KEY_PREFIX) else "id"
    value: Any = key_ref if column == "key_prefix" else _uuid_or_missing(key_ref)
    row = conn.execute(
        text(
            "SELECT id, user_id, name, key_prefix, created_at, revoked_at FROM api_keys"
            f" WHERE {column} = :v FOR UPDATE"
        ),
        {"v": value},
    ).first()
    if row is None:
        raise NotFound(f"API key not found: {key_ref}")
    key = ApiKey(**row._mapping)
    if actor.user_id != key.user_id:
        policy.require(actor, "api_key.manage.others")
    if key.revoked_at is not None:
        return key, False
    revoked_at = conn.execute(
        text("UPDATE api_keys SET revoked_at = now() WHERE id = :id RETURNING revoked_at"),
        {"id": key.id},
    ).scalar_one()
    actor.audit(conn, "api_key.revoke", "api_key", key.id, after={"revoked_at": revoked_at})
    return ApiKey(**{**asdict(key), "revoked_at": revoked_at}), True


def list_api_keys(conn: Connection, actor: Actor, user_ref: str) -> list[ApiKey]:
    """A user's keys, newest first (admins, or the user)."""
    user = get_user(conn, user_ref)
    if actor.user_id != user.id:
        policy.require(actor, "api_key.manage.others")
    rows = conn.execute(
        text(
            "SELECT id, user_id, name, key_prefix, created_at, revoked_at FROM api_keys"
            " WHERE user_id = :uid ORDER BY created_at DESC"
        ),
        {"uid": user.id},
    )
    return [ApiKey(**row._mapping) for row in rows]


def authenticate(conn: Connection, secret: str, source: str = "api") -> Actor:
    """The actor a bearer key belongs to; PermissionDenied for unknown, revoked or inactive."""
    actor = authenticate_keys(conn, [secret], source).get(secret)
    if actor is None:
        raise invalid_key()
    return actor


def authenticate_keys(conn: Connection, secrets: list[str], source: str = "api") -> dict[str, Actor]:
    """The actors of the valid keys among secrets, by secret, marked as used now; unknown and
    revoked keys and the keys of deactivated users are left out. One read and one write for
    any number of keys."""
    by_hash = {hash_key(secret): secret for secret in secrets}
    rows = conn.execute(
        text(
            "SELECT u.id, u.email, u.role, k.id AS key_id, k.key_hash"
            " FROM api_keys k JOIN users u ON u.id = k.user_id"
            " WHERE k.key_hash = ANY(:hashes) AND k.revoked_at IS NULL AND u.is_activated"
        ),
        {"hashes": list(by_hash)},
    ).all()
    if rows:
        conn.execute(text("UPDATE api_keys SET last_used_at = now() WHERE id = ANY(:ids)"),
                     {"ids": [row.key_id for row in rows]})
    return {by_hash[row.key_hash]: Actor(user_id=row.id, email=row.email, role=row.role, source=source)
            for row in rows}


def invalid_key() -> PermissionDenied:
    """The refusal of a key that does not authenticate."""
    return PermissionDenied("invalid, revoked or deactivated API key", code="unauthenticated")


def _uuid_or_missing(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"API key not found: {raw}") from None


def bootstrap_admin(conn: Connection, email: str) -> tuple[str, str] | None:
    """The first admin of a new platform, with an API key, when no person is an admin yet;
    returns (email, secret), else None. Created by the system operator, so it is audited."""
    from alefctl.workflows.actor import resolve_actor

    locks.lock_xact(conn, locks.DB_INIT_XACT)  # two first uses at once create one admin
    if not first_admin_needed(conn):
        return None
    operator = resolve_actor(conn, None, "cli")
    admin = create_user(conn, operator, NewUser(email, "Administrator", "admin"))
    _key, secret = create_api_key(conn, operator, admin.email, "first admin")
    return admin.email, secret


def first_admin_needed(conn: Connection) -> bool:
    """True while no person is an active admin (a new platform, or no schema yet)."""
    if conn.execute(text("SELECT to_regclass('users')")).scalar() is None:
        return True
    return conn.execute(text("SELECT 1 FROM users WHERE role = 'admin' AND NOT is_system"
                             " AND is_activated LIMIT 1")).first() is None
