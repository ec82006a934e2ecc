"""Agent operations on holders, end to end on the embedded EVM: freeze (whole and partial) with
the order path refusing what is frozen, forced transfer and burn (four-eyes), and wallet
recovery that resumes after a crash between its steps."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from platform_builders import wallet_for
from settlement_helpers import LIMITS, chain_tokens, db_tokens, minted_token, place
from sqlalchemy import text

from alefctl.db.system_users import treasury_id
from alefctl.errors import Conflict, InsufficientFunds, PermissionDenied
from alefctl.workflows import approvals
from alefctl.workflows.holders.freezes import freeze, unfreeze
from alefctl.workflows.holders.jobs import run_agent_jobs
from alefctl.workflows.holders.recovery import request_recovery
from alefctl.workflows.holders.severe import request_burn, request_forced_transfer
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.books import Books, load_books
from alefctl.workflows.trading.group import OrderGroup, PlaceOrder

UNIT = 10**18


@pytest.fixture
def held(platform, chain_client):  # noqa: ANN001, ANN201
    """FRZ live and minted: alice 100, bob 50; carol approved with a wallet and no tokens."""
    return minted_token(platform, chain_client, "FRZ", {"alice": 100, "bob": 50}, buyers=("carol",))


@pytest.fixture
def second_admin(platform):  # noqa: ANN001, ANN201
    """Another admin, to approve the first one's requests."""
    return platform.person("checker", role="admin")


def _sell(platform, who: str, quantity: int, symbol: str = "FRZ"):  # noqa: ANN001, ANN202
    """A sell order through the order group; the outcome (an error is returned, not raised)."""
    investor = platform.actor(f"{who}@x.io")
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(load_books(conn)), LIMITS, treasury_id(conn),
                           lambda: datetime.now(UTC))
        outcome = group.run(PlaceOrder(investor, OrderRequest(symbol, "sell", "limit", quantity,
                                                              Decimal("10.00"))))
        if not isinstance(outcome, Exception):
            group.flush()
    return outcome


def _chain(client, token, name: str) -> tuple[int, int, bool]:  # noqa: ANN001
    wallet = wallet_for(name)
    return (client.balance_of(token.contract_address, wallet) // UNIT,
            client.frozen_tokens(token.contract_address, wallet) // UNIT,
            client.is_frozen(token.contract_address, wallet))


def test_partial_freeze_is_not_sellable_and_reaches_the_chain(platform, chain_client, held) -> None:  # noqa: ANN001
    result = freeze(platform.engine, platform.admin, "FRZ", "alice@x.io", 30, "court order 12")
    assert result["position"]["frozen_quantity"] == 30 and result["chain_status"] == "pending"
    report = run_agent_jobs(platform.engine, chain_client)
    assert (report.done, report.failed) == (1, 0)
    assert _chain(chain_client, held, "alice") == (100, 30, False)
    refused = _sell(platform, "alice", 71)
    assert isinstance(refused, InsufficientFunds) and "70" in refused.message
    assert not isinstance(_sell(platform, "alice", 70), Exception)
    # 30 frozen + 70 locked in the order: nothing left to freeze, and the release works
    with pytest.raises(Conflict, match="cancel sell orders first"):
        freeze(platform.engine, platform.admin, "FRZ", "alice@x.io", 1, "more")
    unfreeze(platform.engine, platform.admin, "FRZ", "alice@x.io", 30, "order lifted")
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert _chain(chain_client, held, "alice") == (100, 0, False)
    with platform.engine.connect() as conn:
        actions = list(conn.execute(text(
            "SELECT action FROM audit_logs WHERE action LIKE 'holder.%' ORDER BY seq")).scalars())
    assert actions[:2] == ["holder.freeze", "holder.jobs_run"] and "holder.unfreeze" in actions


def test_whole_freeze_refuses_sells_with_holder_frozen_and_cancels_open_ones(
        platform, chain_client, held) -> None:  # noqa: ANN001
    resting = place(platform, "alice", "FRZ", "sell", 10, "11.00")
    result = freeze(platform.engine, platform.admin, "FRZ", "alice@x.io", None, "sanctions hit")
    assert [o["id"] for o in result["cancelled_orders"]] == [resting["id"]]
    refused = _sell(platform, "alice", 1)
    assert isinstance(refused, Conflict) and refused.code == "holder_frozen"
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert _chain(chain_client, held, "alice") == (100, 0, True)
    again = freeze(platform.engine, platform.admin, "FRZ", "alice@x.io", None, "again")
    assert again["already"] and again["operation_id"] is None  # nothing new, exit 0
    unfreeze(platform.engine, platform.admin, "FRZ", "alice@x.io", None, "cleared")
    run_agent_jobs(platform.engine, chain_client)
    assert _chain(chain_client, held, "alice")[2] is False
    assert not isinstance(_sell(platform, "alice", 1), Exception)


def test_frozen_holder_is_refused_409_over_http(platform, chain_client, api) -> None:  # noqa: ANN001
    from server_client import place as place_http

    minted_token(platform, chain_client, "DATE", {"alice": 100})
    response = api.call("POST", "/api/v1/admin/holders/DATE/freeze", "admin@x.io",
                        json={"user": "alice@x.io", "reason": "court order"})
    assert response.status_code == 200, response.text
    refused = place_http(api, "alice", "sell", 5, "10.00")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "holder_frozen"
    listed = api.call("GET", "/api/v1/admin/holders/DATE", "admin@x.io").json()
    assert {h["email"]: h["is_frozen"] for h in listed}["alice@x.io"] is True
    assert api.call("GET", "/api/v1/admin/holders/DATE", "alice@x.io").status_code == 403
    bad = api.call("POST", "/api/v1/admin/holders/DATE/freeze", "admin@x.io",
                   json={"user": "alice@x.io", "quantity": 1000, "reason": "too many"})
    assert bad.status_code == 409 and bad.json()["code"] == "conflict"


def test_forced_transfer_needs_a_second_admin_and_moves_db_then_chain(
        platform, chain_client, held, second_admin) -> None:  # noqa: ANN001
    freeze(platform.engine, platform.admin, "FRZ", "alice@x.io", 20, "estate dispute")
    run_agent_jobs(platform.engine, chain_client)
    with platform.engine.begin() as conn:
        request = request_forced_transfer(conn, platform.admin, "FRZ", "alice@x.io", "carol@x.io",
                                          90, "court order 7")
    assert db_tokens(platform, "FRZ", "alice") == 100  # nothing moved before the approval
    with pytest.raises(PermissionDenied):
        approvals.approve(platform.engine, platform.admin, str(request.id))
    decided = approvals.approve(platform.engine, second_admin, str(request.id))
    assert decided.status == "executed" and decided.result["chain_status"] == "pending"
    assert (db_tokens(platform, "FRZ", "alice"), db_tokens(platform, "FRZ", "carol")) == (10, 90)
    with platform.engine.connect() as conn:
        frozen = conn.execute(text("SELECT frozen_quantity FROM wallets w JOIN users u ON"
                                   " u.id = w.user_id WHERE u.email = 'alice@x.io'")).scalar_one()
    assert frozen == 10  # 80 free tokens went first, then 10 of the 20 frozen
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert _chain(chain_client, held, "alice") == (10, 10, False)
    assert chain_tokens(chain_client, held, "carol") == 90
    with platform.engine.connect() as conn:
        assert not [c for c in run_checks(conn, platform.admin) if not c.ok]


def test_forced_transfer_refuses_ineligible_receivers_and_locked_tokens(
        platform, chain_client, held) -> None:  # noqa: ANN001
    platform.person("dave", wallet=wallet_for("dave"))  # no KYC
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="KYC"):
        request_forced_transfer(conn, platform.admin, "FRZ", "alice@x.io", "dave@x.io", 1, "x")
    place(platform, "alice", "FRZ", "sell", 60, "12.00")
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="40 unlocked"):
        request_forced_transfer(conn, platform.admin, "FRZ", "alice@x.io", "bob@x.io", 41, "x")
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="40 unlocked"):
        request_burn(conn, platform.admin, "FRZ", "alice@x.io", 41, "x")


def test_burn_takes_the_tokens_off_the_books_and_the_chain(
        platform, chain_client, held, second_admin) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        request = request_burn(conn, platform.admin, "FRZ", "bob@x.io", 20, "cancelled issue")
    approvals.approve(platform.engine, second_admin, str(request.id))
    assert db_tokens(platform, "FRZ", "bob") == 30
    supply = chain_client.total_supply(held.contract_address)
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert chain_client.total_supply(held.contract_address) == supply - 20 * UNIT
    assert chain_tokens(chain_client, held, "bob") == 30
    with platform.engine.connect() as conn:  # the supply invariant counts the burn
        assert not [c for c in run_checks(conn, platform.admin) if not c.ok]


def test_failed_chain_job_keeps_its_error_and_can_be_retried(platform, chain_client, held) -> None:  # noqa: ANN001
    from alefctl.workflows.holders.listing import list_operations, retry_operation

    chain_client.set_address_frozen(held.contract_address, wallet_for("bob"), True)
    chain_client.freeze_partial_tokens(held.contract_address, wallet_for("bob"), 50 * UNIT)
    freeze(platform.engine, platform.admin, "FRZ", "bob@x.io", 5, "x")  # chain: all 50 frozen
    report = run_agent_jobs(platform.engine, chain_client)
    assert report.failed == 1 and "freeze" in report.failures[0]["error"].lower()
    with platform.engine.connect() as conn:
        [operation] = list_operations(conn, platform.admin, "FRZ", "failed")
    chain_client.unfreeze_partial_tokens(held.contract_address, wallet_for("bob"), 50 * UNIT)
    with platform.engine.begin() as conn:
        retry_operation(conn, platform.admin, str(operation["id"]))
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert _chain(chain_client, held, "bob") == (50, 5, True)


def test_recovery_moves_every_token_and_resumes_after_a_crash_between_steps(
        platform, chain_client, second_admin, monkeypatch) -> None:  # noqa: ANN001
    first = minted_token(platform, chain_client, "RCA", {"alice": 40, "bob": 10})
    second = _second_token(platform, chain_client)
    third = _deployed(platform, chain_client, "RCC")  # alice: registered, holding none
    chain_client.register_identity(third.identity_registry_addr, wallet_for("alice"), 784)
    chain_client.set_address_frozen(third.contract_address, wallet_for("alice"), True)
    freeze(platform.engine, platform.admin, "RCA", "alice@x.io", 15, "pledged")
    run_agent_jobs(platform.engine, chain_client)
    new_wallet = wallet_for("alice-new")
    with platform.engine.begin() as conn:
        request = request_recovery(conn, platform.admin, "alice@x.io", new_wallet, "lost phone")
    decided = approvals.approve(platform.engine, second_admin, str(request.id))
    assert decided.result["status"] == "moving"
    original_wait, waits = chain_client.wait, []

    def crash_on_second(sent, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        waits.append(sent)
        if len(waits) == 2:
            raise SystemExit("worker killed between two recovery steps")
        return original_wait(sent, *args, **kwargs)

    monkeypatch.setattr(chain_client, "wait", crash_on_second)
    with pytest.raises(SystemExit):
        run_agent_jobs(platform.engine, chain_client)
    monkeypatch.undo()
    with platform.engine.connect() as conn:
        states = dict(conn.execute(text(
            "SELECT t.symbol, o.chain_status FROM agent_operations o JOIN tokens t ON"
            " t.id = o.token_id WHERE o.kind = 'recover'")).all())
        wallet = conn.execute(text("SELECT wallet_address FROM users WHERE email = 'alice@x.io'"))
        assert wallet.scalar_one() == wallet_for("alice")  # not switched while tokens move
    assert "sending" in states.values()
    report = run_agent_jobs(platform.engine, chain_client)
    assert report.recoveries_completed == 1 and report.failed == 0
    for token, quantity, frozen in ((first, 40, 15), (second, 25, 0)):
        registry = token.identity_registry_addr
        assert chain_client.balance_of(token.contract_address, new_wallet) == quantity * UNIT
        assert chain_client.frozen_tokens(token.contract_address, new_wallet) == frozen * UNIT
        assert chain_client.balance_of(token.contract_address, wallet_for("alice")) == 0
        assert chain_client.is_verified(registry, new_wallet)
        assert not chain_client.is_verified(registry, wallet_for("alice"))
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT wallet_address FROM users WHERE email = 'alice@x.io'")
                            ).scalar_one() == new_wallet
        sent = conn.execute(text("SELECT count(*) FROM gas_transactions"
                                 " WHERE purpose = 'agent:recover'")).scalar_one()
    assert sent == 2 + 3  # one recoveryAddress per token held, none twice; RCC: register,
    # delete the lost wallet, freeze the new one
    assert chain_client.is_verified(third.identity_registry_addr, new_wallet)
    assert not chain_client.is_verified(third.identity_registry_addr, wallet_for("alice"))
    assert chain_client.investor_country(third.identity_registry_addr, new_wallet) == 784
    assert chain_client.is_frozen(third.contract_address, new_wallet)


def _second_token(platform, chain_client):  # noqa: ANN001, ANN202
    """RCB, live and minted, in which alice (already an investor) bought 25."""
    from alefctl.workflows.lifecycle import enable_secondary, start_offering
    from alefctl.workflows.offering import confirm_payments, subscribe
    from alefctl.workflows.onchain.deploy import deploy_token
    from alefctl.workflows.onchain.minting import run_mint_jobs
    from alefctl.workflows.tokens import get_token

    platform.draft_token("RCB")
    deploy_token(platform.engine, platform.admin, "RCB", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "RCB")
        subscribe(conn, platform.actor("alice@x.io"), "RCB", 25)
        confirm_payments(conn, platform.admin, "RCB")
        enable_secondary(conn, platform.admin, "RCB", Decimal("2"))
        token = get_token(conn, "RCB")
    assert run_mint_jobs(platform.engine, chain_client).failed == 0
    return token


def test_commands_end_to_end(cli, platform, chain_client, held) -> None:  # noqa: ANN001
    from pathlib import Path

    from settlement_helpers import link_chain

    link_chain(Path(cli.env["ALEF_HOME"]), chain_client)
    checker = cli.as_user("admin@x.io")
    frozen = cli.json("holder", "freeze", "FRZ", "alice@x.io", "--quantity", "10",
                      "--reason", "court order")
    assert frozen["chain_status"] == "done" and frozen["position"]["frozen_quantity"] == 10
    moved = cli.json("holder", "force-transfer", "FRZ", "--from", "alice@x.io", "--to",
                     "carol@x.io", "--quantity", "5", "--reason", "estate")
    burned = cli.json("token", "burn", "FRZ", "--from", "bob@x.io", "--quantity", "5",
                      "--reason", "cancelled")
    assert moved["status"] == burned["status"] == "pending"
    for request in (moved, burned):
        assert cli("approvals", "approve", request["id"]).exit_code == 4  # the requester
        assert checker("approvals", "approve", request["id"]).exit_code == 0
    work = cli.json("chain", "work", "--once")
    assert work["agent_operations"]["done"] == 2
    holders = {h["email"]: h for h in cli.json("holder", "list", "FRZ")}
    assert (holders["alice@x.io"]["balance"], holders["alice@x.io"]["chain_frozen"]) == (95, 10)
    assert holders["carol@x.io"]["chain_balance"] == 5 and holders["bob@x.io"]["balance"] == 45
    assert all(h["matches"] for h in holders.values())
    operations = cli.json("holder", "operations", "--token", "FRZ")
    assert [o["kind"] for o in operations] == ["burn", "forced_transfer", "freeze"]
    assert {o["chain_status"] for o in operations} == {"done"}


def test_commands_refuse_bad_input_with_documented_codes(cli, platform, chain_client, held) -> None:  # noqa: ANN001
    cases = [
        (("holder", "freeze", "FRZ", "alice@x.io", "--quantity", "0", "--reason", "x"), 2),
        (("holder", "freeze", "FRZ", "alice@x.io", "--reason", " "), 2),
        (("holder", "freeze", "FRZ", "nobody@x.io", "--reason", "x"), 3),
        (("holder", "freeze", "FRZ", "alice@x.io", "--quantity", "101", "--reason", "x"), 5),
        (("holder", "recover", "alice@x.io", "--new-wallet", "0x12", "--reason", "x"), 2),
        (("holder", "recover", "alice@x.io", "--new-wallet", wallet_for("bob"), "--reason", "x"), 5),
        (("holder", "force-transfer", "FRZ", "--from", "alice@x.io", "--to", "alice@x.io",
          "--quantity", "1", "--reason", "x"), 5),
        (("token", "burn", "FRZ", "--from", "bob@x.io", "--quantity", "51", "--reason", "x"), 5),
        (("holder", "retry", "0193f1a2-7c4e-7d01-8a2b-3c4d5e6f7a8b"), 3),
    ]
    for args, code in cases:
        result = cli(*args)
        assert result.exit_code == code, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    investor = cli.as_user("alice@x.io")
    assert investor("holder", "list", "FRZ").exit_code == 4


def test_crash_after_broadcast_never_transfers_twice(platform, chain_client, held, second_admin,  # noqa: ANN001
                                                     monkeypatch) -> None:
    with platform.engine.begin() as conn:
        request = request_forced_transfer(conn, platform.admin, "FRZ", "alice@x.io", "bob@x.io",
                                          30, "court order")
    approvals.approve(platform.engine, second_admin, str(request.id))

    def crash(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit("worker killed while waiting for the receipt")

    monkeypatch.setattr(chain_client, "wait", crash)
    with pytest.raises(SystemExit):
        run_agent_jobs(platform.engine, chain_client)
    monkeypatch.undo()
    assert chain_tokens(chain_client, held, "bob") == 80  # sent before the crash
    report = run_agent_jobs(platform.engine, chain_client)
    assert (report.done, report.requeued) == (1, 0)
    assert (chain_tokens(chain_client, held, "alice"), chain_tokens(chain_client, held, "bob")) == (70, 80)


def test_crash_between_recording_and_broadcast_freezes_once(platform, chain_client, held,  # noqa: ANN001
                                                            monkeypatch) -> None:
    freeze(platform.engine, platform.admin, "FRZ", "alice@x.io", 25, "court order")
    original = chain_client.w3.eth.send_raw_transaction

    def crash(_raw):  # noqa: ANN001, ANN202
        raise SystemExit("worker killed before the broadcast")

    monkeypatch.setattr(chain_client.w3.eth, "send_raw_transaction", crash)
    with pytest.raises(SystemExit):
        run_agent_jobs(platform.engine, chain_client)
    monkeypatch.setattr(chain_client.w3.eth, "send_raw_transaction", original)
    with platform.engine.connect() as conn:
        status, tx_hash = conn.execute(text("SELECT chain_status, tx_hash FROM agent_operations")).one()
    assert status == "sending" and tx_hash  # recorded, never sent
    report = run_agent_jobs(platform.engine, chain_client)
    assert (report.requeued, report.done) == (1, 1)
    assert _chain(chain_client, held, "alice") == (100, 25, False)


def _deployed(platform, chain_client, symbol: str):  # noqa: ANN001, ANN202
    """A draft token with its suite deployed."""
    from alefctl.workflows.onchain.deploy import deploy_token
    from alefctl.workflows.tokens import get_token

    platform.draft_token(symbol)
    deploy_token(platform.engine, platform.admin, symbol, chain_client)
    with platform.engine.connect() as conn:
        return get_token(conn, symbol)
