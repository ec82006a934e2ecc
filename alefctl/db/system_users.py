"""The platform's own accounts, created by `db init`: the treasury and the system operator."""

from __future__ import annotations

from sqlalchemy import Connection, text

from alefctl.ids import new_id

TREASURY_EMAIL = "treasury@system.alefctl"
OPERATOR_EMAIL = "operator@system.alefctl"

SYSTEM_USERS = (
    # email, full name, role: the treasury receives fees; the operator is the default actor
    # of commands run by ops (cron) when no named admin is given with --as.
    (TREASURY_EMAIL, "Platform treasury", "system"),
    (OPERATOR_EMAIL, "System operator", "admin"),
)


def ensure_system_users(conn: Connection) -> list[str]:
    """Create the missing system users; return the emails created."""
    created = []
    for email, full_name, role in SYSTEM_USERS:
        row = conn.execute(
            text(
                "INSERT INTO users (id, email, full_name, role, is_system, kyc_status)"
                " VALUES (:id, :email, :name, :role, true, 'none')"
                " ON CONFLICT (email) DO NOTHING RETURNING email"
            ),
            {"id": new_id(), "email": email, "name": full_name, "role": role},
        ).first()
        if row is not None:
            created.append(email)
    return created


def treasury_id(conn: Connection):  # noqa: ANN201 - returns uuid.UUID
    """The treasury user's id."""
    return conn.execute(
        text("SELECT id FROM users WHERE email = :e"), {"e": TREASURY_EMAIL}
    ).scalar_one()
