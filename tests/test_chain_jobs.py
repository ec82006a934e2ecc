"""Chain jobs that run by themselves: one list of jobs (workflows/onchain/worker.py) run by
`alefctl serve`, `alefctl worker` and `chain work`; settlement waits for the seller's mint
instead of failing; every transaction's gas is recorded, the configured gas limits are used and
`chain gas --token` reports a token's gas per operation."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from platform_builders import live_token, wallet_for
from settlement_helpers import chain_tokens, link_chain, trade, trade_state
from sqlalchemy import text
from test_settlement_api import _server

import chain
from alefctl.chain_access import open_chain
from alefctl.settings import load_settings
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.onchain.worker import JOBS
from alefctl.workflows.settlement.runner import run_settlement


def _allocations(platform, symbol: str) -> set[str]:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT a.on_chain_status FROM token_allocations a JOIN tokens t ON t.id = a.token_id"
            " WHERE t.symbol = :s AND a.status = 'confirmed'"), {"s": symbol}).scalars())


def _gas(platform, symbol: str) -> dict[str, int]:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT g.purpose, min(g.gas_used) FROM gas_transactions g JOIN tokens t"
            " ON t.id = g.token_id WHERE t.symbol = :s GROUP BY g.purpose"), {"s": symbol}).all())


def test_one_list_of_jobs_in_dependency_order() -> None:
    names = [job.name for job in JOBS]
    assert names.index("maturity") < names.index("token_state")  # matured, then paused on-chain
    assert names.index("failed_offerings") < names.index("burns")  # refunded, then burned
    assert names.index("mints") < names.index("settlement")  # minted, then sold on-chain
    assert {job.cron for job in JOBS} == {"token mature-due", "offering fail-due", "chain work",
                                          "settlement run"}


def test_a_sale_before_the_mint_waits_and_is_not_an_attempt(platform, chain_client) -> None:  # noqa: ANN001
    token = live_token(platform, chain_client, "EARLY", {"alice": 30})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    trade_id = trade(platform, "alice", "carol", "EARLY", 5)
    for _ in range(6):  # more runs than attempts: waiting never fails the trade
        run_settlement(platform.engine, chain_client)
    waiting = trade_state(platform, trade_id)
    assert (waiting["settlement_status"], waiting["settlement_attempts"]) == ("pending", 0)
    assert "waiting for the seller's tokens" in waiting["settlement_error"]
    assert "30 from an allocation mint" in waiting["settlement_error"]
    assert "frozen" not in waiting["settlement_error"]
    assert run_mint_jobs(platform.engine, chain_client).minted >= 1  # the treasury's too
    assert run_settlement(platform.engine, chain_client).settled_on_chain == 1
    settled = trade_state(platform, trade_id)
    assert (settled["settlement_status"], settled["settlement_attempts"]) == ("settled", 0)
    assert chain_tokens(chain_client, token, "carol") == 5


def test_a_short_seller_with_nothing_coming_fails_naming_the_real_cause(platform, chain_client) -> None:  # noqa: ANN001
    token = live_token(platform, chain_client, "GONE", {"alice": 20})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    run_mint_jobs(platform.engine, chain_client)
    chain_client.burn(token.contract_address, wallet_for("alice"), 20 * 10**18)  # behind the books
    trade_id = trade(platform, "alice", "carol", "GONE", 5)
    run_settlement(platform.engine, chain_client)
    state = trade_state(platform, trade_id)
    assert state["settlement_attempts"] == 1
    assert "books and the chain disagree" in state["settlement_error"]
    assert "frozen" not in state["settlement_error"]


def test_serve_alone_mints_and_settles_a_trade_made_right_after_go_live(  # noqa: PLR0913
        engine, db_url, tmp_path, platform, chain_client) -> None:  # noqa: ANN001
    token = live_token(platform, chain_client, "AUTO", {"alice": 40})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    trade_id = trade(platform, "alice", "carol", "AUTO", 7)  # before any mint
    assert _allocations(platform, "AUTO") == {"pending"}
    with _server(engine, db_url, tmp_path / "home", platform, lambda: chain_client,
                 settlement_interval_s=0.2):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if trade_state(platform, trade_id)["settlement_status"] == "settled":
                break
            time.sleep(0.2)
    state = trade_state(platform, trade_id)
    assert (state["settlement_status"], state["settlement_type"]) == ("settled", "on_chain")
    assert state["settlement_attempts"] == 0
    assert "minted" in _allocations(platform, "AUTO")
    assert chain_tokens(chain_client, token, "carol") == 7
    assert chain_tokens(chain_client, token, "alice") == 33
    gas = _gas(platform, "AUTO")  # identities are in the journal, with their gas
    assert gas["identity"] > 0 and gas["mint"] > 0 and gas["settlement"] > 0


def test_worker_once_matures_a_token_past_its_date(cli, platform, chain_client, tmp_path) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DUE", {"alice": 10})
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET maturity_date = :d WHERE symbol = 'DUE'"),
                     {"d": date.today() - timedelta(days=1)})
    link_chain(tmp_path / "home", chain_client)
    result = cli.json("worker", "--once")
    assert result["jobs"]["maturity"]["matured"] == ["DUE"]
    assert result["jobs"]["mints"]["minted"] >= 1
    assert result["jobs"]["token_state"]["done"] >= 1  # the matured token paused on-chain
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM tokens WHERE symbol = 'DUE'")).scalar() \
            == "matured"
    assert cli.as_user("alice@x.io")("worker", "--once").exit_code == 4


def test_chain_gas_reports_a_tokens_operations(cli, platform, chain_client, tmp_path) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "GAS", {"alice": 10})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    run_mint_jobs(platform.engine, chain_client)
    trade(platform, "alice", "carol", "GAS", 2)
    run_settlement(platform.engine, chain_client)
    link_chain(tmp_path / "home", chain_client)
    report = cli.json("chain", "gas", "--token", "GAS")
    by_kind = {op["operation"]: op for op in report["operations"]}
    assert {"identity", "mint", "settlement"} <= set(by_kind)
    assert any(kind.startswith("deploy") for kind in by_kind)
    assert by_kind["identity"]["transactions"] >= 2  # alice at the mint, carol at settlement
    assert by_kind["mint"]["confirmed"] >= 1 and by_kind["mint"]["gas_used"] > 0
    assert report["total_gas_used"] == sum(op["gas_used"] for op in report["operations"])
    assert report["issuer"] == "issuer@x.io"
    assert cli.as_user("issuer@x.io")("chain", "gas", "--token", "GAS").exit_code == 0
    assert cli.as_user("alice@x.io")("chain", "gas", "--token", "GAS").exit_code == 4
    assert cli("chain", "gas", "--token", "NOPE").exit_code == 3
    human = cli("chain", "gas", "--token", "GAS")
    assert human.exit_code == 0 and "settlement" in human.stdout and "total" in human.stdout


def test_the_configured_gas_limits_are_the_ones_used(tmp_path, chain_client) -> None:  # noqa: ANN001
    settings = load_settings(home=link_chain(tmp_path / "home", chain_client),
                             chain={"gas_limit_call": 25_000, "gas_limit_deploy": 100_000})
    with open_chain(settings) as client:
        assert client.gas_limits == (100_000, 25_000)
        assert client.gas_cap(chain.calls.batch_mint(wallet_for("a"), [wallet_for("b")] * 4,
                                                     [1] * 4)) == 100_000
        assert client.gas_cap(chain.calls.deploy_identity_registry()) == 100_000
        with pytest.raises(chain.GasCapExceeded):  # a registry deployment needs far more
            client.send(chain.calls.deploy_identity_registry())
