"""The application's database role cannot alter the audit log (migration 0007_app_role).

alefctl's processes connect to the embedded server as alef_app, which owns nothing: on
audit_logs it may INSERT and SELECT, on audit_chain_head only SELECT, and it cannot alter,
disable or drop what guards them. Its rows are still sealed into the chain (the seal runs as the
owner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError

from alefctl.db.audit import verify
from alefctl.db.embedded import APP_ROLE
from alefctl.workflows.actor import resolve_actor
from alefctl.workflows.users import NewUser, create_user

REFUSED = [
    "UPDATE audit_logs SET action = 'nothing.happened'",
    "DELETE FROM audit_logs",
    "TRUNCATE audit_logs",
    "UPDATE audit_chain_head SET seq = 0",
    "DELETE FROM audit_chain_head",
    "ALTER TABLE audit_logs DISABLE TRIGGER USER",
    "DROP TRIGGER audit_logs_no_update ON audit_logs",
    "ALTER TABLE audit_logs OWNER TO alef_app",
    "SET ROLE postgres",
    "CREATE OR REPLACE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql"
    " AS $$ BEGIN RETURN NEW; END $$",
]


@pytest.fixture
def app_engine(engine: Engine, db_url: str) -> Iterator[Engine]:
    """This test's database as the application role."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).first() is None:
            pytest.skip(f"no role {APP_ROLE} on this server (an external test database)")
    app = create_engine(make_url(db_url).set(username=APP_ROLE))
    yield app
    app.dispose()


def _audit_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_logs")).scalar_one()


def test_the_app_role_writes_sealed_audit_rows(app_engine: Engine, engine: Engine) -> None:
    before = _audit_rows(engine)
    with app_engine.begin() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == APP_ROLE
        operator = resolve_actor(conn, None, "cli")
        create_user(conn, operator, NewUser("w@x.io", "W", "investor"))
    assert _audit_rows(engine) == before + 1
    with app_engine.connect() as conn:
        report = verify(conn)  # the app role reads the chain
        conn.execute(text("GRANT UPDATE, DELETE ON audit_logs TO alef_app"))  # a no-op, warned
        granted = {privilege: conn.execute(text(
            "SELECT has_table_privilege('audit_logs', :p)"), {"p": privilege}).scalar_one()
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")}
    assert report.ok and report.rows == before + 1
    assert granted == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False,
                       "TRUNCATE": False}


@pytest.mark.parametrize("statement", REFUSED)
def test_the_app_role_cannot_alter_the_audit_log(app_engine: Engine, engine: Engine,
                                                 statement: str) -> None:
    with app_engine.begin() as conn:  # something to alter
        create_user(conn, resolve_actor(conn, None, "cli"), NewUser("w@x.io", "W", "investor"))
    rows = _audit_rows(engine)
    with app_engine.connect() as conn, pytest.raises(ProgrammingError) as refused:
        conn.execute(text(statement))
    assert refused.value.orig is not None
    assert refused.value.orig.sqlstate in ("42501", "42704")  # insufficient privilege / no role
    assert _audit_rows(engine) == rows
    with engine.connect() as conn:
        assert verify(conn).ok


def test_the_owner_still_can_and_verify_catches_it(app_engine: Engine, engine: Engine) -> None:
    # What holds against the app role does not hold against the database's superuser: the
    # chain is what catches that (tests/test_audit_chain.py has the details).
    with app_engine.begin() as conn:
        create_user(conn, resolve_actor(conn, None, "cli"), NewUser("w@x.io", "W", "investor"))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_logs DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM audit_logs WHERE seq = (SELECT max(seq) FROM audit_logs)"))
        conn.execute(text("ALTER TABLE audit_logs ENABLE TRIGGER USER"))
    with app_engine.connect() as conn:
        assert not verify(conn).ok


def test_commands_on_the_embedded_database_connect_as_the_app_role(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALEF_")}
    env["ALEF_HOME"] = str(tmp_path / "home")
    alefctl = [sys.executable, "-m", "alefctl"]
    try:
        created = subprocess.run([*alefctl, "user", "create", "--email", "p@x.io", "--name", "P",
                                  "--json"], env=env, capture_output=True, text=True, timeout=120)
        assert created.returncode == 0, created.stderr
        probe = (
            "from sqlalchemy import text\n"
            "from alefctl.settings import load_settings\n"
            "from alefctl.db import connect\n"
            "with connect(load_settings()).connect() as conn:\n"
            "    print(conn.execute(text('SELECT current_user')).scalar_one())\n"
            "    try:\n"
            "        conn.execute(text('DELETE FROM audit_logs'))\n"
            "    except Exception as error:\n"
            "        print(type(error.orig).__name__)\n"
        )
        seen = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              text=True, timeout=60)
        assert seen.stdout.split() == [APP_ROLE, "InsufficientPrivilege"], seen.stderr
        verified = subprocess.run([*alefctl, "audit", "verify", "--json"], env=env,
                                  capture_output=True, text=True, timeout=60)
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["rows"] >= 2  # the first admin's creation, p@x.io
        again = subprocess.run([*alefctl, "db", "init"], env=env, capture_output=True, text=True,
                               timeout=60)
        assert again.returncode == 0 and "already up to date" in again.stderr, again.stderr
    finally:
        subprocess.run([*alefctl, "db", "stop"], env=env, capture_output=True, timeout=60)
