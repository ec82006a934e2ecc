"""Apply schema.sql and numbered migrations; report the schema version and row counts.

schema.sql is version 1. Each later change is alefctl/db/migrations/NNNN_name.sql (NNNN >= 2),
applied in order by `alefctl db init`, each recorded in schema_migrations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, text

from alefctl.db import locks
from alefctl.db.system_users import ensure_system_users

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
COUNTED_TABLES = (
    "users", "businesses", "kyc_applications", "tokens", "token_allocations", "wallets",
    "wallet_transactions", "orders", "trades", "dividend_declarations", "audit_logs",
)


@dataclass(frozen=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


@dataclass
class InitResult:
    """What `db init` did."""

    version: int
    applied: list[str] = field(default_factory=list)
    created_users: list[str] = field(default_factory=list)


def schema_sql() -> str:
    """The text of schema.sql: packaged with the wheel, or at the top of a source checkout."""
    packaged = resources.files("alefctl.db").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text()
    return (Path(__file__).resolve().parents[2] / "schema.sql").read_text()


def migrations(directory: Path | None = None) -> list[Migration]:
    """Numbered migrations in version order (versions start at 2: schema.sql is 1)."""
    folder = directory or Path(__file__).with_name("migrations")
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file name must be NNNN_name.sql: {path.name}")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text()))
    return found


def latest_version() -> int:
    """The version this alefctl brings a database to."""
    return max([1, *(m.version for m in migrations())])


def current_version(conn: Connection) -> int:
    """The applied schema version; 0 for an empty database."""
    if conn.execute(text("SELECT to_regclass('schema_migrations')")).scalar() is None:
        return 0
    return conn.execute(text("SELECT coalesce(max(version), 0) FROM schema_migrations")).scalar_one()


def init_schema(conn: Connection, migration_dir: Path | None = None) -> InitResult:
    """Bring the database to the newest version; idempotent and safe to run concurrently."""
    locks.lock_xact(conn, locks.DB_INIT_XACT)
    version = current_version(conn)
    result = InitResult(version=version)
    if version == 0:
        _run_script(conn, schema_sql())
        _record(conn, 1, "schema")
        result.applied.append("0001_schema")
        version = 1
    for migration in migrations(migration_dir):
        if migration.version > version:
            _run_script(conn, migration.sql)
            _record(conn, migration.version, migration.name)
            result.applied.append(f"{migration.version:04d}_{migration.name}")
            version = migration.version
    result.version = version
    result.created_users = ensure_system_users(conn)
    return result


def table_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the main tables, for `db status`."""
    return {
        table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in COUNTED_TABLES
    }


def _run_script(conn: Connection, sql: str) -> None:
    # psycopg runs a parameterless multi-statement script in one round trip.
    conn.connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def _record(conn: Connection, version: int, name: str) -> None:
    conn.execute(
        text("INSERT INTO schema_migrations (version, name) VALUES (:v, :n)"),
        {"v": version, "n": name},
    )
