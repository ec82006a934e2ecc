"""`alefctl serve` acts by itself as the service identity (the system operator, source worker):
its settlement runs are audited under it; the identity that started it is audited (server.start);
a `settlement run` from cron is audited under its operator."""

from __future__ import annotations

import time

import uvicorn
from fastapi.testclient import TestClient
from platform_builders import live_token
from settlement_helpers import link_chain, minted_token, trade, trade_state
from sqlalchemy import text

from alefctl.db.system_users import OPERATOR_EMAIL
from alefctl.server import create_app
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.settings import load_settings


def audit_rows(engine, action: str) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT u.email, a.source, a.object_id, a.after FROM audit_logs a"
            " JOIN users u ON u.id = a.actor_id WHERE a.action = :a ORDER BY a.seq"),
            {"a": action}).all()


def test_serve_records_who_started_it(cli, engine, monkeypatch) -> None:  # noqa: ANN001
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    made = cli("user", "create", "--email", "otto@x.io", "--name", "Otto", "--role", "operator")
    assert made.exit_code == 0, made.stderr
    result = cli.as_user("otto@x.io")("serve", "--port", "8123")
    assert result.exit_code == 0, result.stderr
    assert started and started[0]["port"] == 8123
    assert f"started by otto@x.io; its own work acts as {OPERATOR_EMAIL}" in result.stderr
    [row] = audit_rows(engine, "server.start")
    assert (row.email, row.source) == ("otto@x.io", "cli")
    assert (row.after["service_identity"], row.after["port"]) == (OPERATOR_EMAIL, 8123)
    cli("user", "create", "--email", "ivan@x.io", "--name", "Ivan")
    refused = cli.as_user("ivan@x.io")("serve")
    assert refused.exit_code == 4 and len(started) == 1
    assert len(audit_rows(engine, "server.start")) == 1


def test_the_servers_settlement_is_audited_as_the_service_identity(  # noqa: PLR0913
        engine, db_url, tmp_path, platform, chain_client) -> None:  # noqa: ANN001
    minted_token(platform, chain_client, "SVC", {"alice": 50}, ("carol",))
    trade_id = trade(platform, "alice", "carol", "SVC", 4)
    settings = load_settings(home=tmp_path / "home", database={"url": db_url},
                             server={"settlement_interval_s": 0.2})
    app = create_app(settings, engine, chain_opener=lambda: chain_client)
    with TestClient(app):
        deadline = time.monotonic() + 60
        while trade_state(platform, trade_id)["settlement_status"] != "settled":
            assert time.monotonic() < deadline, trade_state(platform, trade_id)
            time.sleep(0.2)
        time.sleep(0.5)  # the run's audit row follows its last transaction
    runs = audit_rows(engine, "settlement.run")
    assert runs, "the settlement loop left no audit row"
    assert {(row.email, row.source) for row in runs} == {(OPERATOR_EMAIL, "worker")}
    assert trade_id in [t for row in runs for t in row.after["trades"]]
    assert sum(row.after["settled_on_chain"] for row in runs) == 1


def test_a_cron_settlement_run_is_audited_as_its_operator(cli, engine, platform,  # noqa: ANN001
                                                           chain_client, tmp_path) -> None:
    minted_token(platform, chain_client, "CRN", {"alice": 50}, ("carol",))
    trade_id = trade(platform, "alice", "carol", "CRN", 2)
    link_chain(tmp_path / "home", chain_client)
    cli("user", "create", "--email", "otto@x.io", "--name", "Otto", "--role", "operator")
    result = cli.as_user("otto@x.io")("settlement", "run", "--once")
    assert result.exit_code == 0, result.stderr
    assert trade_state(platform, trade_id)["settlement_status"] == "settled"
    [row] = audit_rows(engine, "settlement.run")
    assert (row.email, row.source, row.after["trades"]) == ("otto@x.io", "cli", [trade_id])


def test_mint_runs_are_audited(cli, engine, platform, chain_client, tmp_path) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "MNT", {"alice": 50})  # allocations confirmed, not minted
    assert run_mint_jobs(engine, chain_client).minted >= 1  # no actor: the service identity
    [row] = audit_rows(engine, "mint.run")
    assert (row.email, row.source) == (OPERATOR_EMAIL, "worker") and row.after["minted"] >= 1
    live_token(platform, chain_client, "MNU", {"bob": 20})
    link_chain(tmp_path / "home", chain_client)
    cli("user", "create", "--email", "otto@x.io", "--name", "Otto", "--role", "operator")
    worked = cli.as_user("otto@x.io")("chain", "work", "--once")
    assert worked.exit_code == 0, worked.stderr
    rows = audit_rows(engine, "mint.run")
    assert [(r.email, r.source) for r in rows] == [(OPERATOR_EMAIL, "worker"), ("otto@x.io", "cli")]
    assert rows[1].after["minted"] >= 1
    assert run_mint_jobs(engine, chain_client).minted == 0  # nothing to do: no row
    assert len(audit_rows(engine, "mint.run")) == 2
