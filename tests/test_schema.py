"""The schema: applies cleanly and idempotently, and its constraints refuse bad rows."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from alefctl.db.schema import current_version, init_schema, latest_version, migrations
from alefctl.db.system_users import OPERATOR_EMAIL, TREASURY_EMAIL
from alefctl.ids import new_id


def test_init_applies_once_and_is_idempotent(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        first = init_schema(conn)
    with engine.begin() as conn:
        second = init_schema(conn)
        emails = set(conn.execute(text("SELECT email FROM users WHERE is_system")).scalars())
    engine.dispose()
    assert first.applied == ["0001_schema"] + [f"{m.version:04d}_{m.name}" for m in migrations()]
    assert set(first.created_users) == {TREASURY_EMAIL, OPERATOR_EMAIL}
    assert second.applied == [] and second.created_users == []
    assert second.version == first.version == latest_version()
    assert emails == {TREASURY_EMAIL, OPERATOR_EMAIL}


def test_numbered_migrations_apply_in_order(empty_db_url: str, tmp_path: Path) -> None:
    (tmp_path / "0002_add_note.sql").write_text("ALTER TABLE users ADD COLUMN note TEXT;")
    (tmp_path / "0003_fill_note.sql").write_text("ALTER TABLE users ALTER COLUMN note SET DEFAULT 'x';")
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        result = init_schema(conn, tmp_path)
    with engine.begin() as conn:
        again = init_schema(conn, tmp_path)
        notes = set(conn.execute(text("SELECT note FROM users")).scalars())
        version = current_version(conn)
    engine.dispose()
    assert result.applied == ["0001_schema", "0002_add_note", "0003_fill_note"]
    assert again.applied == [] and version == 3 and notes == {"x"}


def test_migration_file_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "2_bad.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="NNNN_name.sql"):
        migrations(tmp_path)


def _user(conn, **overrides) -> uuid.UUID:  # noqa: ANN001
    values = {"id": new_id(), "email": f"{uuid.uuid4().hex[:8]}@x.io", "full_name": "X",
              "role": "investor", "fiat_balance": 0}
    values.update(overrides)
    conn.execute(text("INSERT INTO users (id, email, full_name, role, fiat_balance)"
                      " VALUES (:id, :email, :full_name, :role, :fiat_balance)"), values)
    return values["id"]


BAD_USERS = [
    {"fiat_balance": -1},
    {"fiat_balance": "1.005"},  # sub-cent money is refused, never rounded silently
    {"role": "superuser"},
    {"email": "not-an-email"},
]


@pytest.mark.parametrize("overrides", BAD_USERS)
def test_user_constraints(engine: Engine, overrides: dict) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        _user(conn, **overrides)


@pytest.mark.parametrize("sql", [
    "UPDATE users SET kyc_status = 'maybe'",
    "UPDATE users SET wallet_address = '0x123'",
    "UPDATE users SET fatca_status = 'unknown'",
])
def test_status_and_address_checks(engine: Engine, sql: str) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(sql))


def _business_and_token(conn, **token) -> uuid.UUID:  # noqa: ANN001
    owner = _user(conn, role="issuer")
    business = new_id()
    conn.execute(text("INSERT INTO businesses (id, owner_id, company_name, registration_number,"
                      " country, industry) VALUES (:id, :o, 'Acme', :r, 'AE', 'agri')"),
                 {"id": business, "o": owner, "r": uuid.uuid4().hex})
    values = {"id": new_id(), "b": business, "o": owner, "symbol": "ACME", "supply": 1000,
              "price": "1.00", "p": 80, "t": 10, "r": 10}
    values.update(token)
    conn.execute(text(
        "INSERT INTO tokens (id, business_id, created_by, name, symbol, total_supply,"
        " price_per_token, primary_offering_pct, team_pct, reserve_pct)"
        " VALUES (:id, :b, :o, 'Acme', :symbol, :supply, :price, :p, :t, :r)"), values)
    return values["id"]


@pytest.mark.parametrize("token", [
    {"p": 80, "t": 15, "r": 10},       # the shares must fit in 100%
    {"symbol": "acme"},                # upper case only
    {"symbol": "TOOLONGSYMBOL"},       # at most 10 characters
    {"supply": 0},
    {"price": "0.001"},
])
def test_token_constraints(engine: Engine, token: dict) -> None:
    with pytest.raises(DBAPIError), engine.begin() as conn:
        _business_and_token(conn, **token)


def test_wallet_locked_never_exceeds_balance(engine: Engine) -> None:
    with engine.begin() as conn:
        token = _business_and_token(conn)
        holder = _user(conn)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO wallets (id, user_id, token_id, balance, locked_balance)"
                          " VALUES (:id, :u, :t, 5, 6)"), {"id": new_id(), "u": holder, "t": token})


def test_token_addresses_are_immutable(engine: Engine) -> None:
    address = "0x" + "ab" * 20
    with engine.begin() as conn:
        token = _business_and_token(conn)
        conn.execute(text("UPDATE tokens SET contract_address = :a WHERE id = :id"),
                     {"a": address, "id": token})
    with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET contract_address = :a WHERE id = :id"),
                     {"a": "0x" + "cd" * 20, "id": token})


def test_one_open_kyc_application_per_user(engine: Engine) -> None:
    insert = text("INSERT INTO kyc_applications (id, user_id, full_name, nationality,"
                  " document_type, document_number, document_number_last4)"
                  " VALUES (:id, :u, 'X', 'AE', 'passport', 'enc', '1234')")
    with engine.begin() as conn:
        user = _user(conn)
        conn.execute(insert, {"id": new_id(), "u": user})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"id": new_id(), "u": user})


def test_rejection_needs_a_reason(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        owner = _user(conn, role="issuer")
        conn.execute(text("INSERT INTO businesses (id, owner_id, company_name, registration_number,"
                          " country, industry, status) VALUES (:id, :o, 'A', 'R1', 'AE', 'x',"
                          " 'rejected')"), {"id": new_id(), "o": owner})


@pytest.mark.parametrize("statement", ["UPDATE audit_logs SET action = 'x'", "DELETE FROM audit_logs",
                                       "TRUNCATE audit_logs"])
def test_audit_log_is_append_only(engine: Engine, statement: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_logs (id, action, object_type, source)"
                          " VALUES (:id, 'test', 'none', 'cli')"), {"id": new_id()})
        rows = conn.execute(text("SELECT count(*) FROM audit_logs")).scalar_one()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_logs")).scalar_one() == rows
