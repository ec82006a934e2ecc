"""HTTP routes of settlement and dividends (spec paths, role checks), and the settlement loop
inside the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from platform_builders import wallet_for
from server_client import Api
from settlement_helpers import chain_tokens, db_tokens, minted_token, trade, trade_state
from sqlalchemy import text
from test_dividends import paying_token

from alefctl.server import create_app
from alefctl.server.state import server_state
from alefctl.settings import load_settings
from alefctl.workflows.settlement.runner import run_settlement


def _failed_trade(platform, chain_client) -> str:  # noqa: ANN001
    """A trade whose settlement failed five times: its seller's tokens are frozen on-chain."""
    token = minted_token(platform, chain_client, "API", {"alice": 20}, ("carol",))
    chain_client.freeze_partial_tokens(token.contract_address, wallet_for("alice"), 20 * 10**18)
    trade_id = trade(platform, "alice", "carol", "API", 5)
    for _ in range(5):
        run_settlement(platform.engine, chain_client)
    assert trade_state(platform, trade_id)["settlement_status"] == "failed"
    chain_client.unfreeze_partial_tokens(token.contract_address, wallet_for("alice"), 20 * 10**18)
    return trade_id


def test_admin_trades_list_show_and_retry(api, platform, chain_client) -> None:  # noqa: ANN001
    trade_id = _failed_trade(platform, chain_client)
    listed = api.call("GET", "/api/v1/admin/trades?status=failed&token=API", "admin@x.io")
    assert listed.status_code == 200, listed.text
    [row] = listed.json()
    assert row["id"] == trade_id and row["settlement_attempts"] == 5
    assert "free on-chain balance" in row["settlement_error"]
    shown = api.call("GET", f"/api/v1/admin/trades/{trade_id}", "admin@x.io").json()
    assert [h["to_status"] for h in shown["history"]][-1] == "failed"
    assert api.call("GET", "/api/v1/admin/trades", "carol@x.io").status_code == 403
    assert api.call("POST", f"/api/v1/admin/trades/{trade_id}/retry-settlement",
                    "carol@x.io").status_code == 403
    retried = api.call("POST", f"/api/v1/admin/trades/{trade_id}/retry-settlement", "admin@x.io")
    assert retried.status_code == 200, retried.text
    body = retried.json()
    assert (body["settlement_status"], body["settlement_attempts"]) == ("pending", 0)
    again = api.call("POST", f"/api/v1/admin/trades/{trade_id}/retry-settlement", "admin@x.io")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    missing = "01900000-0000-7000-8000-000000000000"
    assert api.call("POST", f"/api/v1/admin/trades/{missing}/retry-settlement",
                    "admin@x.io").status_code == 404
    assert api.call("GET", "/api/v1/admin/trades?status=lost", "admin@x.io").status_code == 422
    assert run_settlement(platform.engine, chain_client).settled_on_chain == 1


def test_dividend_routes_declare_to_distribute(api, platform) -> None:  # noqa: ANN001
    paying_token(platform, {"ann": 300, "ben": 100}, symbol="DIV")
    investor = platform.approved("ivy")
    body = {"token_id": "DIV", "dividend_type": "fiat", "per_token_usd": "0.25"}
    assert api.call("POST", "/api/v1/dividends", investor.email, json=body).status_code == 403
    created = api.call("POST", "/api/v1/dividends", "issuer@x.io", json=body)
    assert created.status_code == 201, created.text
    dividend = created.json()
    assert (dividend["status"], dividend["holder_count"], dividend["total_gross_usd"]) == (
        "draft", 2, "100.00")
    assert (dividend["fee_pct"], dividend["total_fee_usd"]) == ("1.00", "1.00")  # the platform's
    path = f"/api/v1/dividends/{dividend['id']}"
    assert api.call("GET", path, investor.email).status_code == 403  # dividends: issuers and admins
    assert api.call("POST", f"{path}/submit", "issuer@x.io").json()["status"] == "pending_approval"
    admin_path = f"/api/v1/admin/dividends/{dividend['id']}"
    assert api.call("POST", f"{admin_path}/approve", "issuer@x.io").status_code == 403
    assert api.call("POST", f"{admin_path}/approve", "admin@x.io").json()["status"] == "approved"
    assert api.call("POST", f"{admin_path}/distribute", investor.email).status_code == 403
    paid = api.call("POST", f"{admin_path}/distribute", "admin@x.io")
    assert paid.status_code == 200, paid.text
    assert (paid.json()["status"], paid.json()["paid_count"]) == ("distributed", 2)
    shown = api.call("GET", f"{path}?payments=true", "issuer@x.io").json()
    assert sorted(p["net_amount"] for p in shown["payments"]) == ["24.75", "74.25"]  # 1% to the platform
    listed = api.call("GET", "/api/v1/dividends?status=distributed", "admin@x.io").json()
    assert [d["id"] for d in listed] == [dividend["id"]]
    assert api.call("GET", "/api/v1/dividends", investor.email).status_code == 403
    assert api.call("POST", f"{path}/cancel", "issuer@x.io").status_code == 409
    second = api.call("POST", "/api/v1/dividends", "issuer@x.io", json=body).json()
    cancelled = api.call("POST", f"/api/v1/dividends/{second['id']}/cancel", "issuer@x.io",
                         json={"reason": "board changed its mind"})
    assert cancelled.json()["status"] == "cancelled", cancelled.text
    bad = api.call("POST", "/api/v1/dividends", "issuer@x.io",
                   json={**body, "dividend_type": "gold"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"


@contextmanager
def _server(engine, db_url, home, platform, opener=None, **server) -> Iterator[Api]:  # noqa: ANN001, ANN003
    settings = load_settings(home=home, database={"url": db_url}, server=server)
    app = create_app(settings, engine, chain_opener=opener)  # the session's chain, not <home>/chain's
    with TestClient(app) as client:
        yield Api(client, engine, platform.admin)


def test_the_server_settles_in_the_background(engine, db_url, tmp_path, platform,  # noqa: ANN001
                                              chain_client) -> None:
    token = minted_token(platform, chain_client, "BKG", {"alice": 50}, ("carol",))
    trade_ids = [trade(platform, "alice", "carol", "BKG", 4) for _ in range(3)]
    with _server(engine, db_url, tmp_path / "home", platform, lambda: chain_client,
                 settlement_interval_s=0.2, settlement_batch_size=2) as server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if {trade_state(platform, t)["settlement_status"] for t in trade_ids} == {"settled"}:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # one more period: the gauge follows the queue
        metrics = server.call("GET", "/metrics").text
    assert {trade_state(platform, t)["settlement_status"] for t in trade_ids} == {"settled"}
    assert "alef_settlement_backlog 0.0" in metrics
    assert chain_tokens(chain_client, token, "carol") == db_tokens(platform, "BKG", "carol") == 12


def test_the_loop_can_be_switched_off(engine, db_url, tmp_path, platform) -> None:  # noqa: ANN001
    with _server(engine, db_url, tmp_path / "home", platform, settlement_loop=False) as server:
        assert server_state(server.client.app).settlement_loop is None
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM trades")).scalar_one() == 0
