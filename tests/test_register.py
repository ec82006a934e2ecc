"""Position history and the holder register: every change of a position is recorded with its
time in the changing transaction; the register at any past instant, by command and HTTP; the
current register against balanceOf."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from register_builders import db_now, history, trading_token
from settlement_helpers import minted_token, trade
from sqlalchemy import text

from alefctl.errors import NotFound, PermissionDenied
from alefctl.jsonfmt import to_jsonable
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.register import holder_register, verify_chain

MIGRATION = Path(__file__).parents[1] / "alefctl/db/migrations/0017_positions_history.sql"


def test_every_position_change_is_recorded_in_its_transaction(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100, "bob": 50}, traders=("carol",))
    assert history(platform) == [("alice", 100, 100), ("bob", 50, 50)]
    trade(platform, "alice", "carol", "DATE", 30)
    assert history(platform)[2:] == [("alice", -30, 70), ("carol", 30, 30)]
    # locking tokens in an order is no change of position; a failed transaction leaves none
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE wallets SET locked_balance = 5 WHERE balance = 50"))
    with pytest.raises(Exception), platform.engine.begin() as conn:  # noqa: B017, PT011
        conn.execute(text("UPDATE wallets SET balance = balance - 20 WHERE balance = 50"))
        raise RuntimeError("rolled back")
    # any other path (a burn, a forced transfer) is recorded too: the triggers see every write
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE wallets SET balance = balance - 20 WHERE balance = 50"))
    assert history(platform)[4:] == [("bob", -20, 30)]
    with platform.engine.begin() as conn:
        failed = {r.name for r in run_checks(conn, platform.admin) if not r.ok}
    assert "positions_history_matches_wallets" not in failed


def test_the_app_role_records_history_but_cannot_rewrite_it(platform, engine, db_url) -> None:  # noqa: ANN001
    from sqlalchemy import create_engine, make_url
    from sqlalchemy.exc import ProgrammingError

    trading_token(platform, {"alice": 100})
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'alef_app'")).first() is None:
            pytest.skip("no role alef_app on this server (an external test database)")
    app = create_engine(make_url(db_url).set(username="alef_app"))
    try:
        with app.begin() as conn:
            conn.execute(text("UPDATE wallets SET balance = balance - 1"))
        assert history(platform)[-1] == ("alice", -1, 99)
        with pytest.raises(ProgrammingError, match="permission denied"), app.begin() as conn:
            conn.execute(text("DELETE FROM positions_history"))
    finally:
        app.dispose()


def test_register_at_a_past_instant(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100, "bob": 100}, traders=("carol",))
    before = db_now(platform)
    trade(platform, "alice", "carol", "DATE", 40)
    trade(platform, "bob", "carol", "DATE", 100)  # bob leaves
    with platform.engine.begin() as conn:
        then = holder_register(conn, platform.admin, "DATE", before)
        now = holder_register(conn, platform.admin, "DATE")
    assert [(h.email, h.quantity, h.pct_of_supply) for h in then.holders] == [
        ("alice@x.io", 100, Decimal("50.0000")), ("bob@x.io", 100, Decimal("50.0000"))]
    assert [(h.email, h.quantity) for h in now.holders] == [("carol@x.io", 140), ("alice@x.io", 60)]
    assert then.total_held == now.total_held == 200
    carol = now.holders[0]
    assert (carol.legal_name, carol.country) == ("Carol", "AE")  # the approved KYC's name
    assert carol.acquired_at > before  # her holding began with her first buy
    assert now.holders[1].acquired_at < before  # alice's with her allocation


def test_register_is_the_admins_and_the_issuers(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100})
    with platform.engine.begin() as conn:
        assert len(holder_register(conn, platform.issuer, "DATE").holders) == 1
    other = platform.approved("otto", role="issuer")
    alice = platform.actor("alice@x.io")
    with platform.engine.begin() as conn:
        with pytest.raises(NotFound):
            holder_register(conn, other, "DATE")
        with pytest.raises(PermissionDenied):
            holder_register(conn, alice, "DATE")


def test_holders_command_csv_json_and_as_of(platform, cli) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 30, "bob": 10}, traders=("carol",))
    before = db_now(platform).isoformat()
    trade(platform, "bob", "carol", "DATE", 10)
    result = cli("token", "holders", "DATE", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["email"], r["quantity"], r["pct_of_supply"]) for r in rows] == [
        ("alice@x.io", "30", "75.0000"), ("carol@x.io", "10", "25.0000")]
    past = cli.json("token", "holders", "DATE", "--as-of", before, "--format", "json")
    assert [(h["email"], h["quantity"]) for h in past["holders"]] == [
        ("alice@x.io", 30), ("bob@x.io", 10)]
    assert past["total_held"] == 40 and past["holder_count"] == 2
    assert cli("token", "holders", "DATE", "--format", "xml").exit_code == 2
    assert cli("token", "holders", "DATE", "--as-of", "yesterday").exit_code == 2
    assert cli.as_user("alice@x.io")("token", "holders", "DATE").exit_code == 4


def test_holders_route(platform, api) -> None:  # noqa: ANN001
    token = trading_token(platform, {"alice": 100}, traders=("carol",))
    before = db_now(platform).isoformat()
    trade(platform, "alice", "carol", "DATE", 25)
    path = f"/api/v1/admin/tokens/{token.id}/holders"
    now = api.call("GET", path, "admin@x.io")
    assert now.status_code == 200, now.text
    assert [(h["email"], h["quantity"]) for h in now.json()["holders"]] == [
        ("alice@x.io", 75), ("carol@x.io", 25)]
    then = api.call("GET", path, "admin@x.io", params={"as_of": before}).json()
    assert [(h["email"], h["quantity"], h["pct_of_supply"]) for h in then["holders"]] == [
        ("alice@x.io", 100, "100.0000")]
    assert api.call("GET", path, "issuer@x.io").status_code == 403  # an admin route
    refused = api.call("GET", path, "alice@x.io")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_verify_chain_against_balance_of(platform, chain_client) -> None:  # noqa: ANN001
    minted_token(platform, chain_client, "VRFY", {"alice": 100, "bob": 50}, buyers=("carol",))
    with platform.engine.begin() as conn:
        register = holder_register(conn, platform.admin, "VRFY")
        assert {c["email"]: c["status"] for c in verify_chain(conn, chain_client, register)} == {
            "alice@x.io": "ok", "bob@x.io": "ok", "treasury@system.alefctl": "ok"}
    trade(platform, "alice", "carol", "VRFY", 10)  # not settled on-chain yet: in flight
    with platform.engine.begin() as conn:
        register = holder_register(conn, platform.admin, "VRFY")
        checks = {c["email"]: c for c in verify_chain(conn, chain_client, register)}
    assert {e: c["status"] for e, c in checks.items()} == {
        "alice@x.io": "in_flight", "bob@x.io": "ok", "carol@x.io": "in_flight",
        "treasury@system.alefctl": "ok"}
    assert checks["alice@x.io"]["chain_quantity"] == 100
    assert json.dumps(to_jsonable(checks["alice@x.io"])).count('"chain_quantity": 100,') == 1
    with platform.engine.begin() as conn:  # a position the chain does not explain
        conn.execute(text("UPDATE wallets SET balance = balance + 7 WHERE user_id ="
                          " (SELECT id FROM users WHERE email = 'bob@x.io')"))
        register = holder_register(conn, platform.admin, "VRFY")
        checks = {c["email"]: c for c in verify_chain(conn, chain_client, register)}
    assert checks["bob@x.io"]["status"] == "break"


def test_migration_backfills_history_from_allocations_and_trades(platform, engine) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100}, traders=("carol",))
    trade(platform, "alice", "carol", "DATE", 40)
    expected = history(platform)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM positions_history"))
        conn.execute(text("UPDATE wallets SET balance = balance + 1 WHERE user_id ="
                          " (SELECT id FROM users WHERE email = 'carol@x.io')"))  # unexplained
        conn.execute(text("DELETE FROM positions_history"))
        conn.exec_driver_sql(MIGRATION.read_text())
    backfilled = sorted(history(platform))
    # alice's rows come from her allocation and her trade; carol's records do not explain her
    # 41 tokens: one opening row
    assert backfilled == sorted([*(row for row in expected if row[0] == "alice"), ("carol", 41, 41)])
