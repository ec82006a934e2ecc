"""POST /api/v1/admin/tokens/:id/deploy runs the five transactions in the background (202 at
once); GET shows the deployment from the database: progress, addresses, a failure's text, and
the same after a restart. A stopped deployment resumes without a second suite."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_client import Api
from sqlalchemy import text

from alefctl.server import create_app
from alefctl.settings import load_settings
from alefctl.workflows.onchain.deploy import DEPLOY_PURPOSE
from alefctl.workflows.onchain.journal import record_sent
from alefctl.workflows.tokens import get_token

STEPS = ["identity_registry", "compliance", "token", "identity_registry_agent", "token_agent"]


@contextmanager
def _server(engine, db_url: str, home: Path, platform, opener: Callable | None,  # noqa: ANN001
            **chain: object) -> Iterator[Api]:
    """The app on this test's database; its chain is opener() (None: open_chain(settings))."""
    settings = load_settings(home=home, database={"url": db_url}, chain=chain,
                             server={"settlement_loop": False})
    app = create_app(settings, engine, chain_opener=opener)
    with TestClient(app) as client:
        yield Api(client, engine, platform.admin)


def _path(symbol: str) -> str:
    return f"/api/v1/admin/tokens/{symbol}/deploy"


def _until(api: Api, symbol: str, *statuses: str) -> dict:
    deadline = time.monotonic() + 120
    while True:
        state = api.call("GET", _path(symbol), "admin@x.io").json()
        if state["status"] in statuses or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def test_deploy_in_the_background_then_done(engine, db_url, tmp_path, platform,  # noqa: ANN001
                                            chain_client) -> None:
    platform.draft_token("BGD")
    platform.approved("ivy")
    with _server(engine, db_url, tmp_path / "home", platform, lambda: chain_client) as api:
        before = api.call("GET", _path("BGD"), "admin@x.io").json()
        assert before["status"] == "not_deployed" and before["addresses"] is None
        assert [(s["step"], s["state"]) for s in before["steps"]] == [(s, "pending") for s in STEPS]
        assert api.call("POST", _path("BGD"), "ivy@x.io").status_code == 403
        assert api.call("GET", _path("BGD"), "ivy@x.io").status_code == 403
        assert api.call("POST", _path("NOPE"), "admin@x.io").status_code == 404

        started = api.call("POST", _path("BGD"), "admin@x.io")
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "deploying"
        done = _until(api, "BGD", "deployed", "failed")

        assert done["status"] == "deployed", done
        assert [s["state"] for s in done["steps"]] == ["mined"] * 5
        assert all(s["tx_hash"] and s["gas_used"] > 0 for s in done["steps"])
        with engine.connect() as conn:
            token = get_token(conn, "BGD")
        assert done["addresses"] == {"token": token.contract_address,
                                     "identity_registry": token.identity_registry_addr,
                                     "compliance": token.compliance_addr}
        again = api.call("POST", _path("BGD"), "admin@x.io")
        assert again.status_code == 200 and again.json()["status"] == "deployed"
        offering = api.call("POST", "/api/v1/admin/tokens/BGD/start-offering", "admin@x.io")
        assert offering.status_code == 200, offering.text


def test_a_failure_is_shown_after_a_restart_and_deploying_again_resumes(  # noqa: ANN001
        engine, db_url, tmp_path, platform, chain_client) -> None:
    platform.draft_token("FLD")
    home = tmp_path / "home"
    # The server's own chain: a JSON-RPC node that is not there (nothing listens on port 9).
    with _server(engine, db_url, home, platform, None, rpc_url="http://127.0.0.1:9") as api:
        assert api.call("POST", _path("FLD"), "admin@x.io").status_code == 202
        failed = _until(api, "FLD", "failed", "deployed")
    assert failed["status"] == "failed" and failed["error"].startswith("chain unavailable")

    with _server(engine, db_url, home, platform, lambda: chain_client) as api:  # restarted
        shown = api.call("GET", _path("FLD"), "admin@x.io").json()
        assert (shown["status"], shown["error"]) == ("failed", failed["error"])
        assert api.call("POST", _path("FLD"), "admin@x.io").status_code == 202
        assert _until(api, "FLD", "deployed", "failed")["status"] == "deployed"


def test_a_deployment_stopped_part_way_resumes_without_a_second_suite(  # noqa: ANN001
        engine, db_url, tmp_path, platform, chain_client) -> None:
    token = platform.draft_token("PRT")

    def record_then_die(step: str, sent) -> None:  # noqa: ANN001
        with engine.begin() as conn:
            record_sent(conn, token.id, DEPLOY_PURPOSE + step, sent)
        if step == "token":
            raise RuntimeError("the deploying process died")

    nonce = chain_client.w3.eth.get_transaction_count(chain_client.signer_address)
    with pytest.raises(RuntimeError):
        chain_client.deploy_suite(token.name, token.symbol, token.decimals, on_sent=record_then_die)
    with _server(engine, db_url, tmp_path / "home", platform, lambda: chain_client) as api:
        stopped = api.call("GET", _path("PRT"), "admin@x.io").json()
        assert stopped["status"] == "incomplete"
        assert [s["state"] for s in stopped["steps"]] == ["recorded"] * 3 + ["pending"] * 2
        assert api.call("POST", _path("PRT"), "admin@x.io").status_code == 202
        done = _until(api, "PRT", "deployed", "failed")
    assert done["status"] == "deployed", done
    assert [s["tx_hash"] for s in done["steps"][:3]] == [s["tx_hash"] for s in stopped["steps"][:3]]
    assert chain_client.w3.eth.get_transaction_count(chain_client.signer_address) == nonce + 5
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM gas_transactions WHERE token_id = :t"),
                            {"t": token.id}).scalar_one() == 5
