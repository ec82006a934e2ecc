"""The settlement processor on the embedded database and EVM: off-chain fallback, on-chain
batches, the frozen-token guard, attempts and admin retry, crashes, and concurrent runners."""

from __future__ import annotations

import json
import threading

import pytest
from platform_builders import wallet_for
from settlement_helpers import chain_tokens, db_tokens, link_chain, minted_token, trade, trade_state
from sqlalchemy import text

from alefctl.workflows.settlement.admin import retry_failed_settlements
from alefctl.workflows.settlement.queue import claim_pending
from alefctl.workflows.settlement.runner import drain_settlement, run_settlement

ON_CHAIN_HISTORY = [(None, "pending", 0), ("pending", "processing", 1), ("processing", "settled", 1)]


@pytest.fixture
def market(platform, chain_client):  # noqa: ANN001, ANN201
    """SET minted on-chain: alice 100, bob 50; carol and dave have money and wallets."""
    return minted_token(platform, chain_client, "SET", {"alice": 100, "bob": 50}, ("carol", "dave"))


def _positions_agree(platform, client, token, names) -> None:  # noqa: ANN001
    for name in names:
        assert chain_tokens(client, token, name) == db_tokens(platform, token.symbol, name), name


def test_off_chain_fallback_settles_without_the_chain(platform, market) -> None:  # noqa: ANN001
    trade_id = trade(platform, "alice", "carol", "SET", 5)
    with platform.engine.begin() as conn:  # the buyer's wallet is gone: the spec's fallback
        conn.execute(text("UPDATE users SET wallet_address = NULL WHERE email = 'carol@x.io'"))

    def no_chain():  # noqa: ANN202
        raise AssertionError("the off-chain fallback must not open the chain")

    report = run_settlement(platform.engine, no_chain)
    assert (report.settled_off_chain, report.settled_on_chain) == (1, 0)
    state = trade_state(platform, trade_id)
    assert state["settlement_status"] == "settled" and state["settlement_type"] == "off_chain"
    assert state["settled_at"] is not None and state["tx_hash"] is None
    assert state["history"] == [(None, "pending", 0), ("pending", "settled", 1)]


def test_one_batch_per_token_moves_the_tokens(platform, chain_client, market) -> None:  # noqa: ANN001
    trades = [trade(platform, "alice", "carol", "SET", 10), trade(platform, "bob", "carol", "SET", 5),
              trade(platform, "alice", "dave", "SET", 3)]
    report = run_settlement(platform.engine, chain_client)
    assert (report.settled_on_chain, report.transactions, report.retrying) == (3, 1, 0)
    states = [trade_state(platform, t) for t in trades]
    assert {s["settlement_type"] for s in states} == {"on_chain"}
    assert len({s["tx_hash"] for s in states}) == 1  # one batchForcedTransfer
    assert all(s["history"] == ON_CHAIN_HISTORY for s in states)
    _positions_agree(platform, chain_client, market, ("alice", "bob", "carol", "dave"))
    assert chain_tokens(chain_client, market, "carol") == 15
    with platform.engine.connect() as conn:
        gas = conn.execute(text("SELECT purpose, status, gas_used FROM gas_transactions"
                                " WHERE tx_hash = :h"), {"h": states[0]["tx_hash"]}).one()
    assert gas.purpose == "settlement" and gas.status == "confirmed" and gas.gas_used > 0
    assert run_settlement(platform.engine, chain_client).claimed == 0


def test_frozen_tokens_block_the_sale_until_an_admin_retries(platform, chain_client,  # noqa: ANN001
                                                             market) -> None:
    chain_client.freeze_partial_tokens(market.contract_address, wallet_for("alice"), 95 * 10**18)
    blocked = trade(platform, "alice", "carol", "SET", 10)
    fine = trade(platform, "bob", "dave", "SET", 4)
    report = run_settlement(platform.engine, chain_client)
    assert (report.settled_on_chain, report.retrying) == (1, 1)
    assert trade_state(platform, fine)["settlement_status"] == "settled"
    state = trade_state(platform, blocked)
    assert (state["settlement_status"], state["settlement_attempts"]) == ("pending", 1)
    assert "free on-chain balance 5 SET (95 frozen) does not cover 10" in state["settlement_error"]
    for _ in range(4):
        run_settlement(platform.engine, chain_client)
    state = trade_state(platform, blocked)
    assert (state["settlement_status"], state["settlement_attempts"]) == ("failed", 5)
    assert state["history"][-1] == ("processing", "failed", 5)
    assert run_settlement(platform.engine, chain_client).claimed == 0  # failed: left alone
    assert chain_client.frozen_tokens(market.contract_address, wallet_for("alice")) == 95 * 10**18
    assert chain_tokens(chain_client, market, "alice") == 100  # nothing moved, nothing unfrozen
    chain_client.unfreeze_partial_tokens(market.contract_address, wallet_for("alice"), 95 * 10**18)
    with platform.engine.begin() as conn:
        assert retry_failed_settlements(conn, platform.admin, None) == [_uuid(blocked)]
        audit = conn.execute(text("SELECT count(*) FROM audit_logs WHERE action ="
                                  " 'trade.retry_settlement' AND object_id = :id"),
                             {"id": blocked}).scalar_one()
    assert audit == 1
    assert trade_state(platform, blocked)["settlement_attempts"] == 0
    assert run_settlement(platform.engine, chain_client).settled_on_chain == 1
    _positions_agree(platform, chain_client, market, ("alice", "bob", "carol", "dave"))


def test_a_reverted_batch_is_retried_trade_by_trade(platform, chain_client, market) -> None:  # noqa: ANN001
    chain_client.set_max_balance(market.contract_address, 20 * 10**18)  # dave may not get 30
    good = trade(platform, "bob", "carol", "SET", 10)
    refused = trade(platform, "alice", "dave", "SET", 30)
    try:
        report = run_settlement(platform.engine, chain_client)
    finally:
        chain_client.set_max_balance(market.contract_address, 0)
    assert (report.settled_on_chain, report.retrying) == (1, 1)
    assert trade_state(platform, good)["settlement_status"] == "settled"
    state = trade_state(platform, refused)
    assert state["settlement_status"] == "pending" and "balance" in state["settlement_error"].lower()
    assert run_settlement(platform.engine, chain_client).settled_on_chain == 1
    _positions_agree(platform, chain_client, market, ("alice", "bob", "carol", "dave"))


def test_crash_while_waiting_for_the_receipt_never_transfers_twice(platform, chain_client,  # noqa: ANN001
                                                                   market, monkeypatch) -> None:
    chain_client.register_identity(market.identity_registry_addr, wallet_for("carol"), 784)
    trade_id = trade(platform, "alice", "carol", "SET", 10)

    def crash(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit("runner killed while waiting for the receipt")

    monkeypatch.setattr(chain_client, "wait", crash)
    with pytest.raises(SystemExit):
        run_settlement(platform.engine, chain_client)
    monkeypatch.undo()
    state = trade_state(platform, trade_id)
    assert state["settlement_status"] == "processing" and state["tx_hash"]
    assert chain_tokens(chain_client, market, "carol") == 10  # it was broadcast and mined
    report = run_settlement(platform.engine, chain_client)
    assert (report.settled_on_chain, report.transactions) == (1, 0)  # recovered, not resent
    assert trade_state(platform, trade_id)["history"] == ON_CHAIN_HISTORY
    _positions_agree(platform, chain_client, market, ("alice", "carol"))


def test_crash_between_recording_and_broadcast_transfers_once(platform, chain_client,  # noqa: ANN001
                                                              market, monkeypatch) -> None:
    chain_client.register_identity(market.identity_registry_addr, wallet_for("carol"), 784)
    trade_id = trade(platform, "alice", "carol", "SET", 10)
    original = chain_client.w3.eth.send_raw_transaction

    def crash(_raw):  # noqa: ANN001, ANN202
        raise SystemExit("runner killed before the broadcast")

    monkeypatch.setattr(chain_client.w3.eth, "send_raw_transaction", crash)
    with pytest.raises(SystemExit):
        run_settlement(platform.engine, chain_client)
    monkeypatch.setattr(chain_client.w3.eth, "send_raw_transaction", original)
    state = trade_state(platform, trade_id)
    assert state["settlement_status"] == "processing" and state["tx_hash"]  # recorded, not sent
    report = run_settlement(platform.engine, chain_client)  # recovery re-queues, then settles
    assert (report.retrying, report.settled_on_chain) == (1, 1)
    state = trade_state(platform, trade_id)
    assert state["settlement_status"] == "settled" and state["settlement_attempts"] == 1
    assert chain_tokens(chain_client, market, "carol") == 10
    _positions_agree(platform, chain_client, market, ("alice", "carol"))


def test_two_claims_never_share_a_trade(platform, market) -> None:  # noqa: ANN001
    trades = {trade(platform, "alice", "carol", "SET", 1) for _ in range(6)}
    with (platform.engine.connect() as first, platform.engine.connect() as second,
          first.begin(), second.begin()):
        mine = {str(job.id) for job in claim_pending(first, 4)}
        theirs = {str(job.id) for job in claim_pending(second, 4)}
    assert len(mine) == 4 and len(theirs) == 2 and not mine & theirs and mine | theirs == trades


def test_two_runners_at_once_settle_each_trade_once(platform, chain_client, market) -> None:  # noqa: ANN001
    other = minted_token(platform, chain_client, "SETB", {"erin": 60})
    trades = [trade(platform, "alice", "carol", "SET", 2) for _ in range(7)]
    trades += [trade(platform, "erin", "dave", "SETB", 3) for _ in range(7)]
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            drain_settlement(platform.engine, chain_client, batch_size=4)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    drain_settlement(platform.engine, chain_client)  # whatever one runner deferred to the other
    states = [trade_state(platform, t) for t in trades]
    assert {s["settlement_status"] for s in states} == {"settled"}
    assert all(s["history"] == ON_CHAIN_HISTORY for s in states)  # claimed once, never resent
    _positions_agree(platform, chain_client, market, ("alice", "carol"))
    _positions_agree(platform, chain_client, other, ("erin", "dave"))


def _uuid(value: str):  # noqa: ANN202
    import uuid

    return uuid.UUID(value)


def test_crash_before_anything_was_signed_requeues_the_trade(platform, chain_client, market,  # noqa: ANN001
                                                             monkeypatch) -> None:
    trade_id = trade(platform, "alice", "carol", "SET", 10)

    def crash(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit("runner killed while checking balances")

    monkeypatch.setattr(chain_client, "frozen_tokens", crash)
    with pytest.raises(SystemExit):
        run_settlement(platform.engine, chain_client)
    monkeypatch.undo()
    state = trade_state(platform, trade_id)
    assert state["settlement_status"] == "processing" and state["tx_hash"] is None
    report = run_settlement(platform.engine, chain_client)
    assert (report.retrying, report.settled_on_chain) == (1, 1)
    state = trade_state(platform, trade_id)
    assert state["history"][2] == ("processing", "pending", 1)
    assert "stopped before sending" in (_last_error(platform, trade_id) or "")
    _positions_agree(platform, chain_client, market, ("alice", "carol"))


def test_settlement_commands(cli, platform, chain_client, market, tmp_path) -> None:  # noqa: ANN001
    link_chain(tmp_path / "home", chain_client)
    chain_client.freeze_partial_tokens(market.contract_address, wallet_for("alice"), 95 * 10**18)
    blocked = trade(platform, "alice", "carol", "SET", 10)
    trade(platform, "bob", "dave", "SET", 4)
    down = cli("settlement", "run", "--once", ALEF_CHAIN_RPC_URL="http://127.0.0.1:9")
    assert down.exit_code == 6 and "chain unavailable" in down.stderr
    assert trade_state(platform, blocked)["history"] == [(None, "pending", 0)]  # untouched
    run = cli("settlement", "run", "--once", "--json")  # an attempt failed: exit 1
    first = json.loads(run.stdout)
    assert run.exit_code == 1 and [f["trade_id"] for f in first["failures"]] == [blocked]
    assert (first["settled_on_chain"], first["retrying"], first["failed"]) == (1, 1, 0)
    assert [t["id"] for t in cli.json("settlement", "list", "--status", "pending")] == [blocked]
    for _ in range(4):
        assert cli("settlement", "run", "--once").exit_code == 1
    shown = cli.json("settlement", "show", blocked)
    assert shown["settlement_status"] == "failed" and len(shown["history"]) == 11
    human = cli("settlement", "list", "--token", "SET")
    assert human.exit_code == 0 and "failed" in human.stdout
    assert cli("settlement", "retry").exit_code == 2
    assert cli.as_user("carol@x.io")("settlement", "list").exit_code == 4
    assert cli("settlement", "show", "01900000-0000-7000-8000-000000000000").exit_code == 3
    chain_client.unfreeze_partial_tokens(market.contract_address, wallet_for("alice"), 95 * 10**18)
    assert cli.json("settlement", "retry", "--all-failed")["retried"] == [blocked]
    assert cli("settlement", "retry", blocked).exit_code == 5  # pending now, not failed
    assert cli.json("settlement", "run", "--once")["settled_on_chain"] == 1
    _positions_agree(platform, chain_client, market, ("alice", "bob", "carol", "dave"))


def _last_error(platform, trade_id: str) -> str | None:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return conn.execute(text("SELECT error FROM trade_settlement_history WHERE trade_id = :id"
                                 " AND error IS NOT NULL ORDER BY created_at DESC LIMIT 1"),
                            {"id": trade_id}).scalar()
