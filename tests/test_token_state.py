"""Token status and the chain agree: pause, resume, mature and delist change the token's on-chain
state through a chain job (recorded, resumable, idempotent), and reconcile reports a mismatch."""

from __future__ import annotations

from typing import Any

import pytest
from settlement_helpers import LIMITS, link_chain, minted_token
from sqlalchemy import text

from alefctl.workflows.lifecycle import change_status, retire
from alefctl.workflows.onchain.token_state import MAX_ATTEMPTS, run_token_state_jobs
from alefctl.workflows.reconcile import reconcile


def _jobs(platform) -> list[tuple[str, str]]:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT kind, status FROM token_chain_jobs ORDER BY created_at, id"))]


def _state_txs(platform) -> int:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM gas_transactions"
                                     " WHERE purpose LIKE 'token_%'")).scalar_one())


def test_pause_and_resume_reach_the_chain_by_job(platform, chain_client) -> None:  # noqa: ANN001
    token = minted_token(platform, chain_client, "PSE", {"alice": 10})
    with platform.engine.begin() as conn:
        change_status(conn, platform.admin, "PSE", "pause")
    assert _jobs(platform) == [("status", "pending")]
    [pending] = reconcile(platform.engine, platform.admin, chain_client, "PSE")
    assert pending.ok and pending.state_pending == [
        {"state": "paused", "on_chain": False, "expected": True}]
    report = run_token_state_jobs(platform.engine, chain_client)
    assert (report.done, report.transactions) == (1, 1)
    assert chain_client.paused(token.contract_address) is True
    assert _jobs(platform) == [("status", "done")]
    [result] = reconcile(platform.engine, platform.admin, chain_client, "PSE")
    assert result.ok and result.state_pending == [] and result.summary["paused_on_chain"]
    with platform.engine.begin() as conn:
        change_status(conn, platform.admin, "PSE", "resume")
    with platform.engine.begin() as conn:  # a second job for the same change: nothing twice
        conn.execute(text("INSERT INTO token_chain_jobs (id, token_id, kind) SELECT"
                          " gen_random_uuid(), id, 'status' FROM tokens WHERE symbol = 'PSE'"))
    assert run_token_state_jobs(platform.engine, chain_client).done == 2
    assert chain_client.paused(token.contract_address) is False
    assert _state_txs(platform) == 2


def test_mature_and_delist_pause_the_token_on_chain(platform, chain_client) -> None:  # noqa: ANN001
    matured = minted_token(platform, chain_client, "MAT", {"alice": 10})
    delisted = minted_token(platform, chain_client, "DEL", {"bob": 10})
    retire(platform.engine, platform.admin, "MAT", "mature", LIMITS)
    retire(platform.engine, platform.admin, "DEL", "delist", LIMITS)
    assert run_token_state_jobs(platform.engine, chain_client).done == 2
    assert chain_client.paused(matured.contract_address)
    assert chain_client.paused(delisted.contract_address)
    assert all(r.ok for r in reconcile(platform.engine, platform.admin, chain_client))


def test_reconcile_reports_a_chain_that_disagrees(platform, chain_client) -> None:  # noqa: ANN001
    token = minted_token(platform, chain_client, "MIS", {"alice": 10})
    chain_client.pause(token.contract_address)  # paused on-chain behind the database's back
    chain_client.set_holder_transfers_open(token.contract_address, True)
    [result] = reconcile(platform.engine, platform.admin, chain_client, "MIS")
    assert not result.ok
    assert {(b["kind"], b["state"]) for b in result.breaks} == {
        ("state", "paused"), ("state", "holder_transfers_open")}
    with platform.engine.begin() as conn:  # a job brings the chain back
        conn.execute(text("INSERT INTO token_chain_jobs (id, token_id, kind) SELECT"
                          " gen_random_uuid(), id, 'status' FROM tokens WHERE symbol = 'MIS'"))
    run_token_state_jobs(platform.engine, chain_client)
    assert reconcile(platform.engine, platform.admin, chain_client, "MIS")[0].ok
    assert chain_client.holder_transfers_open(token.contract_address) is False


class _CrashAfterBroadcast:
    """The chain client of a worker that dies once its transaction reached the node."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def wait(self, *args: Any, **kwargs: Any) -> Any:
        raise SystemExit("worker killed")


def test_a_crash_after_broadcast_is_resumed_without_sending_again(platform, chain_client) -> None:  # noqa: ANN001
    token = minted_token(platform, chain_client, "CRS", {"alice": 10})
    with platform.engine.begin() as conn:
        change_status(conn, platform.admin, "CRS", "pause")
    with pytest.raises(SystemExit):
        run_token_state_jobs(platform.engine, _CrashAfterBroadcast(chain_client))
    assert _jobs(platform) == [("status", "sending")]
    report = run_token_state_jobs(platform.engine, chain_client)
    assert (report.requeued, report.done, report.transactions) == (1, 1, 0)
    assert chain_client.paused(token.contract_address)
    assert _state_txs(platform) == 1
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM gas_transactions WHERE purpose ="
                                 " 'token_status'")).scalar_one() == "confirmed"


def test_chain_work_runs_the_jobs(platform, chain_client, make_cli, db_url, tmp_path) -> None:  # noqa: ANN001
    token = minted_token(platform, chain_client, "CWK", {"alice": 10})
    cli = make_cli(db_url, link_chain(tmp_path / "home", chain_client))
    assert cli("token", "pause", "CWK").exit_code == 0
    shown = cli.json("token", "show", "CWK", "--json")
    assert [job["status"] for job in shown["chain_jobs"]] == ["pending"]
    done = cli.json("chain", "work", "--once", "--json")
    assert done["token_state"]["done"] == 1
    assert chain_client.paused(token.contract_address)
    assert cli.json("token", "show", "CWK", "--json")["chain_jobs"] == []


def test_a_job_that_keeps_failing_is_failed_and_checked(platform, chain_client) -> None:  # noqa: ANN001
    from alefctl.workflows.invariants import run_checks

    token = platform.draft_token("BAD")
    with platform.engine.begin() as conn:  # an address with no contract: nothing can be read
        conn.execute(text("UPDATE tokens SET contract_address = :a WHERE id = :t"),
                     {"a": "0x" + "12" * 20, "t": token.id})
        conn.execute(text("INSERT INTO token_chain_jobs (id, token_id, kind) VALUES"
                          " (gen_random_uuid(), :t, 'status')"), {"t": token.id})
    for _ in range(MAX_ATTEMPTS):
        report = run_token_state_jobs(platform.engine, chain_client)
        assert report.failed == 1 and report.failures[0]["token_id"] == str(token.id)
    assert _jobs(platform) == [("status", "failed")]
    assert run_token_state_jobs(platform.engine, chain_client).failed == 0  # not claimed again
    with platform.engine.begin() as conn:
        [check] = run_checks(conn, platform.admin, ["no_failed_token_chain_jobs"])
    assert not check.ok


def test_the_server_runs_the_jobs(engine, db_url, tmp_path, platform, chain_client) -> None:  # noqa: ANN001
    import time

    from test_settlement_api import _server

    token = minted_token(platform, chain_client, "SRV", {"alice": 10})
    with _server(engine, db_url, tmp_path / "home", platform, lambda: chain_client,
                 settlement_interval_s=0.2) as server:
        paused = server.call("POST", "/api/v1/admin/tokens/SRV/pause", "admin@x.io")
        assert paused.status_code == 200, paused.text
        deadline = time.monotonic() + 60
        while not chain_client.paused(token.contract_address) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert chain_client.paused(token.contract_address)
    assert _jobs(platform) == [("status", "done")]
