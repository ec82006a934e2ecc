"""The audit log's hash chain: sealed at commit, verified by `alefctl audit verify`, which names
the first row changed or deleted behind the triggers' back; `alefctl audit list` for
investigators; concurrent audited transactions still leave one valid chain."""

from __future__ import annotations

import json
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from alefctl.db import audit
from alefctl.db.schema import init_schema, migrations
from alefctl.workflows.actor import resolve_actor
from alefctl.workflows.users import NewUser, create_user
from alefctl.workflows.wallet import deposit

MIGRATIONS = Path(audit.__file__).with_name("migrations")
CHAIN = next(m for m in migrations() if m.name == "audit_chain")


def verify(engine: Engine) -> audit.ChainReport:
    with engine.connect() as conn, conn.begin():
        return audit.verify(conn)


def chain(engine: Engine) -> list[tuple[int, str, str]]:
    """(seq, id, action) of every row, in chain order."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT seq, id::text, action FROM audit_logs ORDER BY seq"))]


def behind_the_triggers(engine: Engine, statement: str, **params: object) -> None:
    """What a superuser can do: change audit_logs with its triggers off."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(statement), params)


@pytest.fixture
def audited(platform, engine):  # noqa: ANN001, ANN201
    """Real workflow actions: the platform's staff and issuer (users, KYC), two investors and
    their deposits."""
    for name in ("ann", "ben"):
        platform.person(name)
        with engine.begin() as conn:
            deposit(conn, platform.admin, f"{name}@x.io", "1000.00", "wire")
    return platform


def test_real_actions_leave_an_intact_chain(audited, engine, cli) -> None:  # noqa: ANN001
    rows = chain(engine)
    assert [seq for seq, _, _ in rows] == list(range(1, len(rows) + 1))
    assert {"user.create", "kyc.submit", "kyc.approve", "wallet.deposit"} <= {a for *_, a in rows}
    with engine.connect() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_chain_head")).one()
        first = conn.execute(text("SELECT prev_hash FROM audit_logs WHERE seq = 1")).scalar_one()
        last = conn.execute(text("SELECT row_hash FROM audit_logs WHERE seq = :n"),
                            {"n": len(rows)}).scalar_one()
    assert head.seq == len(rows) and bytes(head.hash) == bytes(last)
    assert bytes(first) == audit.GENESIS
    report = cli.json("audit", "verify")
    assert report == {"ok": True, "rows": len(rows), "first_break": None,
                      "head": {"seq": len(rows), "hash": bytes(last).hex()}}
    assert cli("audit", "verify").exit_code == 0


def test_python_and_the_database_hash_the_same_message(engine, platform) -> None:  # noqa: ANN001
    """The trigger hashes in SQL; verify recomputes in Python: one definition, two codes."""
    tricky = {"note": "ünïcode \u2713, \"quotes\", back\\slash, tab\t, newline\n", "n": 1.50,
              "big": 12345678901234567890, "nested": {"b": [1, None, True], "a": "x"}}
    with engine.begin() as conn:
        platform.admin.audit(conn, "test.tricky", "none", None, before=None, after=tricky)
    with engine.connect() as conn:
        row = conn.execute(text(audit.CHAIN_ROWS_SQL.replace(
            "WHERE seq IS NOT NULL", "WHERE action = 'test.tricky'"))).one()
        in_sql = conn.execute(text("SELECT audit_chain_message(a) FROM audit_logs a"
                                   " WHERE action = 'test.tricky'")).scalar_one()
    assert audit.chain_message(row[:10]) == bytes(in_sql)
    assert audit.row_hash(bytes(row[10]), row[:10]) == bytes(row[11])
    assert verify(engine).ok


def test_verify_names_a_changed_row(audited, engine, cli) -> None:  # noqa: ANN001
    seq, row_id, _ = chain(engine)[4]
    behind_the_triggers(engine, "UPDATE audit_logs SET after = jsonb_set(after, '{amount}',"
                        " '\"1.00\"') WHERE seq = :s", s=seq)
    result = cli("audit", "verify", "--json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert found["ok"] is False and found["rows"] == seq - 1
    assert found["first_break"]["kind"] == "changed"
    assert (found["first_break"]["seq"], found["first_break"]["id"]) == (seq, row_id)
    human = cli("audit", "verify")
    assert human.exit_code == 1 and f"#{seq} ({row_id})" in human.stderr


@pytest.mark.parametrize("column", ["actor_id", "created_at", "source", "object_id", "before"])
def test_any_field_of_the_content_is_covered(audited, engine, column) -> None:  # noqa: ANN001
    changes = {"actor_id": "actor_id = NULL", "created_at": "created_at = created_at + interval"
               " '1 microsecond'", "source": "source = 'api'", "object_id": "object_id = NULL",
               "before": "before = '{}'"}
    seq = chain(engine)[-1][0]
    behind_the_triggers(engine, f"UPDATE audit_logs SET {changes[column]} WHERE seq = :s", s=seq)
    broken = verify(engine).first_break
    assert broken is not None and (broken.kind, broken.seq) == ("changed", seq)


def test_verify_names_a_deleted_row(audited, engine, cli) -> None:  # noqa: ANN001
    rows = chain(engine)
    seq, row_id, _ = rows[3]
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_logs DISABLE TRIGGER ALL"))
        conn.execute(text("DELETE FROM audit_logs WHERE seq = :s"), {"s": seq})
        conn.execute(text("ALTER TABLE audit_logs ENABLE TRIGGER ALL"))
    found = cli("audit", "verify", "--json")
    assert found.exit_code == 1
    broken = json.loads(found.stdout)["first_break"]
    assert (broken["kind"], broken["seq"], broken["missing"]) == ("deleted", seq, 1)
    assert broken["id"] == rows[4][1]  # the first row after the gap
    assert f"#{seq}..#{seq}" in broken["message"] and rows[2][1] in broken["message"]


def test_verify_catches_the_last_rows_deleted(audited, engine) -> None:  # noqa: ANN001
    rows = chain(engine)
    behind_the_triggers(engine, "DELETE FROM audit_logs WHERE seq >= :s", s=len(rows) - 1)
    broken = verify(engine).first_break
    assert broken is not None
    assert (broken.kind, broken.seq, broken.id, broken.missing) == ("deleted", len(rows) - 1,
                                                                    None, 2)


def test_a_rehashed_row_breaks_the_next_link(audited, engine) -> None:  # noqa: ANN001
    """Changing a row and recomputing its own hash is caught by the row after it."""
    seq = chain(engine)[2][0]
    behind_the_triggers(engine, "UPDATE audit_logs SET source = 'api' WHERE seq = :s", s=seq)
    behind_the_triggers(engine, "UPDATE audit_logs a SET row_hash = sha256(a.prev_hash ||"
                        " audit_chain_message(a)) WHERE seq = :s", s=seq)
    broken = verify(engine).first_break
    assert broken is not None and (broken.kind, broken.seq) == ("relinked", seq + 1)


def test_a_head_that_does_not_match_the_last_row(audited, engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_chain_head SET hash = sha256(hash)"))
    broken = verify(engine).first_break
    assert broken is not None and (broken.kind, broken.seq) == ("head", len(chain(engine)))


def test_a_row_inserted_with_the_triggers_off_is_outside_the_chain(audited, engine) -> None:  # noqa: ANN001
    behind_the_triggers(engine, "INSERT INTO audit_logs (id, action, object_type, source)"
                        " VALUES (gen_random_uuid(), 'forged', 'none', 'cli')")
    broken = verify(engine).first_break
    assert broken is not None and broken.kind == "unsealed"


def test_the_seal_is_the_only_update_allowed(engine) -> None:
    """Even before its commit seals it, a row's chain columns cannot be set by hand."""
    before = verify(engine).rows  # the first admin's creation is audited in every test database
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_logs (id, action, object_type, source)"
                          " VALUES ('00000000-0000-7000-8000-000000000001', 'x', 'none', 'cli')"))
        conn.execute(text("UPDATE audit_logs SET seq = 7, row_hash = '\\x00' WHERE action = 'x'"))
    assert verify(engine).ok and verify(engine).rows == before


def test_rows_are_chained_in_commit_order(engine, platform) -> None:  # noqa: ANN001
    first, second = engine.connect(), engine.connect()
    try:
        with first.begin():
            platform.admin.audit(first, "test.first_written", "none", None)
            with second.begin():
                platform.admin.audit(second, "test.second_written", "none", None)
        # second committed (and was sealed) before first
    finally:
        first.close()
        second.close()
    actions = [a for *_, a in chain(engine) if a.startswith("test.")]
    assert actions == ["test.second_written", "test.first_written"]
    assert verify(engine).ok


@pytest.mark.parametrize("seal", ["at commit", "immediately"])
def test_audit_then_lock_cannot_deadlock_with_lock_then_audit(engine, platform, seal) -> None:  # noqa: ANN001
    """A writes its audit row, then locks a user; B locks that user, then audits. Sealing at
    commit, both finish. Sealed at once (the head locked from the audit row to the commit), the
    same interleaving deadlocks: the reason the seal is deferred."""
    user = platform.person("dora").user_id
    audited, locked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with engine.begin() as conn:
                if seal == "immediately":
                    conn.execute(text("SET CONSTRAINTS audit_logs_seal IMMEDIATE"))
                platform.admin.audit(conn, "test.a", "user", user)
                audited.set()
                locked.wait(10)
                conn.execute(text("SELECT 1 FROM users WHERE id = :u FOR UPDATE"), {"u": user})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            audited.set()

    def b() -> None:
        try:
            with engine.begin() as conn:
                if seal == "immediately":
                    conn.execute(text("SET CONSTRAINTS audit_logs_seal IMMEDIATE"))
                audited.wait(10)
                conn.execute(text("SELECT 1 FROM users WHERE id = :u FOR UPDATE"), {"u": user})
                locked.set()
                platform.admin.audit(conn, "test.b", "user", user)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            locked.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if seal == "at commit":
        assert errors == []
        assert [a for *_, a in chain(engine) if a.startswith("test.")] == ["test.b", "test.a"]
    else:
        assert len(errors) == 1 and "deadlock detected" in str(errors[0])
    assert verify(engine).ok


def test_concurrent_audited_actions_leave_one_valid_chain(engine) -> None:
    before = verify(engine).rows  # the first admin's creation
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def work(prefix: str) -> None:
        try:
            start.wait(10)
            for i in range(15):
                with engine.begin() as conn:
                    create_user(conn, operator, NewUser(f"{prefix}{i}@x.io", "P", "investor"))
                    deposit(conn, operator, f"{prefix}{i}@x.io", "10.00")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in ("left", "right", "mid")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    rows = chain(engine)
    assert len(rows) == before + 90 and [seq for seq, _, _ in rows] == list(range(1, before + 91))
    report = verify(engine)
    assert report.ok and report.rows == before + 90


def test_the_migration_seals_the_rows_written_before_it(empty_db_url, tmp_path) -> None:  # noqa: ANN001
    before = tmp_path / "before"
    before.mkdir()
    for migration in migrations():
        if migration.version < CHAIN.version:
            name = f"{migration.version:04d}_{migration.name}.sql"
            shutil.copy(MIGRATIONS / name, before / name)
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            init_schema(conn, before)
        base = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
        with engine.begin() as conn:
            for i, minutes in enumerate((5, 0, 5, 3)):  # out of order; two at one time
                conn.execute(text(
                    "INSERT INTO audit_logs (id, action, object_type, source, created_at, after)"
                    " VALUES (gen_random_uuid(), :a, 'none', 'cli', :t, CAST(:j AS jsonb))"),
                    {"a": f"old.{i}", "t": base + timedelta(minutes=minutes), "j": json.dumps({"i": i})})
        with engine.begin() as conn:
            applied = init_schema(conn).applied
        with engine.begin() as conn:
            resolve_actor(conn, None, "cli").audit(conn, "new.0", "none", None)
        assert f"{CHAIN.version:04d}_audit_chain" in applied
        with engine.begin() as conn:  # applied again (schema_migrations lost its row): no change
            conn.connection.driver_connection.execute(CHAIN.sql)
        rows = chain(engine)
        assert [a for *_, a in rows][:1] == ["old.1"] and [a for *_, a in rows][1] == "old.3"
        assert [a for *_, a in rows][-1] == "new.0"
        assert [seq for seq, _, _ in rows] == [1, 2, 3, 4, 5]
        report = verify(engine)
        assert report.ok and report.rows == 5
        behind_the_triggers(engine, "UPDATE audit_logs SET after = '{\"i\": 9}' WHERE seq = 2")
        assert verify(engine).first_break.seq == 2
    finally:
        engine.dispose()


def test_list_filters_for_investigators(audited, cli) -> None:  # noqa: ANN001
    everything = cli.json("audit", "list")
    assert set(everything[0]) == {"id", "created_at", "actor_email", "action", "object_type",
                                  "object_id", "before", "after", "source"}
    times = [datetime.fromisoformat(row["created_at"]) for row in everything]
    assert times == sorted(times, reverse=True)  # newest first

    deposits = cli.json("audit", "list", "--action", "wallet.")
    assert [r["action"] for r in deposits] == ["wallet.deposit", "wallet.deposit"]
    assert [r["after"]["email"] for r in deposits] == ["ben@x.io", "ann@x.io"]

    by_reviewer = cli.json("audit", "list", "--actor", "Reviewer@x.io")
    assert by_reviewer and {r["actor_email"] for r in by_reviewer} == {"reviewer@x.io"}
    assert {r["action"] for r in by_reviewer} == {"kyc.approve"}
    assert cli.json("audit", "list", "--actor", "review") == []  # a whole email, not a fragment

    assert len(cli.json("audit", "list", "--limit", "3")) == 3
    assert cli.json("audit", "list", "--since", "2999-01-01") == []
    cut = everything[2]["created_at"]
    recent = cli.json("audit", "list", "--since", cut)
    assert recent and all(datetime.fromisoformat(r["created_at"]) >= times[2] for r in recent)
    assert len(recent) < len(everything)

    table = cli("audit", "list", "--action", "kyc.")
    assert table.exit_code == 0 and "kyc.submit" in table.stdout


def test_list_and_verify_are_for_admins(audited, cli) -> None:  # noqa: ANN001
    assert cli.as_user("ann@x.io")("audit", "list").exit_code == 4
    assert cli.as_user("ann@x.io")("audit", "verify").exit_code == 4
    assert cli("audit", "list", "--since", "yesterday").exit_code == 2
    assert cli("audit", "list", "--limit", "0").exit_code == 2
