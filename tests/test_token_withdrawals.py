"""Token withdrawals and deposits (workflows/custody.py): an investor asks, an admin approves, the
tokens leave the books first and then move on-chain to the outside wallet the investor named; a
deposit from that wallet is credited only once the chain confirmed it; reconcile and check see
no break for tokens off the platform."""

from __future__ import annotations

import pytest
from platform_builders import wallet_for
from settlement_helpers import LIMITS, chain_tokens, db_tokens, minted_token, trade
from sqlalchemy import text

from alefctl.errors import Conflict, PermissionDenied
from alefctl.workflows import approvals
from alefctl.workflows.custody import request_token_deposit, request_token_withdrawal
from alefctl.workflows.holders.jobs import run_agent_jobs
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.lifecycle import retire
from alefctl.workflows.reconcile import reconcile
from alefctl.workflows.redemption import request_redemption
from alefctl.workflows.settlement.runner import run_settlement

OUTSIDE = "0x00000000000000000000000000000000000A11CE"
UNIT = 10**18


@pytest.fixture
def held(platform, chain_client):  # noqa: ANN001, ANN201
    """WDR live and minted: alice 100, bob 50; carol approved with a wallet and no tokens."""
    return minted_token(platform, chain_client, "WDR", {"alice": 100, "bob": 50}, buyers=("carol",))


def _ask(platform, quantity: int, to_wallet: str = OUTSIDE, who: str = "alice@x.io"):  # noqa: ANN001, ANN202
    with platform.engine.begin() as conn:
        return request_token_withdrawal(conn, platform.actor(who), "WDR", quantity, to_wallet)


def _reconciled(platform, chain_client):  # noqa: ANN001, ANN202
    [result] = reconcile(platform.engine, platform.admin, chain_client, "WDR")
    return result


def test_books_first_then_chain_and_reconcile_sees_no_break(
        platform, chain_client, held) -> None:  # noqa: ANN001
    request = _ask(platform, 40)
    assert request.kind == "token.withdraw" and request.status == "pending"
    assert db_tokens(platform, "WDR", "alice") == 100  # nothing moves before an admin approves
    decided = approvals.approve(platform.engine, platform.admin, str(request.id))
    assert decided.status == "executed" and decided.result["chain_status"] == "pending"
    assert db_tokens(platform, "WDR", "alice") == 60  # off the books first
    assert chain_tokens(chain_client, held, "alice") == 100
    waiting = _reconciled(platform, chain_client)
    assert waiting.ok and not waiting.breaks
    assert [row["email"] for row in waiting.in_flight] == ["alice@x.io"]
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert chain_tokens(chain_client, held, "alice") == 60
    assert chain_client.balance_of(held.contract_address, OUTSIDE) == 40 * UNIT
    done = _reconciled(platform, chain_client)
    assert done.ok and not done.breaks and not done.in_flight, done.to_dict()
    assert done.summary["withdrawn"] == 40
    with platform.engine.connect() as conn:
        assert not [c.name for c in run_checks(conn, platform.admin) if not c.ok]
        audited = conn.execute(text("SELECT count(*) FROM audit_logs WHERE action ="
                                    " 'token.withdraw'")).scalar_one()
    assert audited == 1


def test_tokens_on_an_unknown_address_are_still_a_break(platform, chain_client, held) -> None:  # noqa: ANN001
    """Only withdrawn tokens explain tokens outside the platform: one more on the outside
    wallet (an agent transfer the books never saw) is reported."""
    from chain import calls

    approvals.approve(platform.engine, platform.admin, str(_ask(platform, 10).id))
    run_agent_jobs(platform.engine, chain_client)
    chain_client.wait(chain_client.send(calls.forced_transfer(
        held.contract_address, wallet_for("bob"), OUTSIDE, 1 * UNIT)))
    kinds = {b["kind"] for b in _reconciled(platform, chain_client).breaks}
    assert "unknown_holders" in kinds and "position" in kinds


def test_only_free_tokens_of_the_investor_leave_and_only_to_an_outside_wallet(
        platform, chain_client, held) -> None:  # noqa: ANN001
    with pytest.raises(Conflict) as beyond:
        _ask(platform, 101)
    assert beyond.value.code == "insufficient_funds"
    with pytest.raises(Conflict) as platform_wallet:
        _ask(platform, 10, wallet_for("carol"))
    assert platform_wallet.value.field == "wallet"
    with pytest.raises(PermissionDenied):  # admins do not withdraw for an investor
        with platform.engine.begin() as conn:
            request_token_withdrawal(conn, platform.admin, "WDR", 10, OUTSIDE)
    request = _ask(platform, 80)
    with pytest.raises(PermissionDenied):  # the investor cannot approve it
        approvals.approve(platform.engine, platform.actor("alice@x.io"), str(request.id))
    with platform.engine.begin() as conn:  # meanwhile 30 of them were frozen
        conn.execute(text("UPDATE wallets SET frozen_quantity = 30 FROM users u WHERE"
                          " u.id = wallets.user_id AND u.email = 'alice@x.io'"))
    with pytest.raises(Conflict):
        approvals.approve(platform.engine, platform.admin, str(request.id))
    assert db_tokens(platform, "WDR", "alice") == 100
    with platform.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM approval_requests WHERE id = :id"),
                              {"id": request.id}).scalar_one()
    assert status == "failed"


def test_bought_tokens_leave_only_once_settled_and_only_while_the_token_trades(
        platform, chain_client, held) -> None:  # noqa: ANN001
    trade(platform, "bob", "carol", "WDR", 20)
    with pytest.raises(Conflict) as unsettled:  # in carol's books, not yet in her wallet
        _ask(platform, 1, who="carol@x.io")
    assert unsettled.value.code == "insufficient_funds" and "not yet settled" in str(unsettled.value)
    assert run_settlement(platform.engine, chain_client).settled_on_chain == 1
    assert _ask(platform, 20, who="carol@x.io").status == "pending"
    with platform.engine.begin() as conn:
        conn.execute(text("UPDATE tokens SET status = 'primary' WHERE symbol = 'WDR'"))
    with pytest.raises(Conflict, match="off the platform only while it is secondary or paused"):
        _ask(platform, 1)


def test_http_route_asks_and_refuses_with_problem_json(
        platform, chain_client, held, api) -> None:  # noqa: ANN001
    asked = api.call("POST", "/api/v1/token-withdrawals", "alice@x.io",
                     json={"symbol": "WDR", "quantity": 25, "to_wallet": OUTSIDE})
    assert asked.status_code == 201, asked.text
    assert asked.json()["kind"] == "token.withdraw" and asked.json()["status"] == "pending"
    too_many = api.call("POST", "/api/v1/token-withdrawals", "bob@x.io",
                        json={"symbol": "WDR", "quantity": 51, "to_wallet": OUTSIDE})
    assert too_many.status_code == 409 and too_many.json()["code"] == "insufficient_funds"
    bad = api.call("POST", "/api/v1/token-withdrawals", "bob@x.io",
                   json={"symbol": "WDR", "quantity": 1, "to_wallet": "0x" + "g" * 40})
    assert bad.status_code in (400, 422)
    admin = api.call("POST", "/api/v1/token-withdrawals", "admin@x.io",
                     json={"symbol": "WDR", "quantity": 1, "to_wallet": OUTSIDE})
    assert admin.status_code == 403


def _withdrawn(platform, chain_client, quantity: int) -> None:  # noqa: ANN001
    approvals.approve(platform.engine, platform.admin, str(_ask(platform, quantity).id))
    assert run_agent_jobs(platform.engine, chain_client).done == 1


def _deposit(platform, quantity: int, from_wallet: str = OUTSIDE,  # noqa: ANN001, ANN202
             who: str = "alice@x.io"):
    with platform.engine.begin() as conn:
        return request_token_deposit(conn, platform.actor(who), "WDR", quantity, from_wallet)


def test_a_deposit_is_credited_only_after_the_chain_confirms(platform, chain_client, held,  # noqa: ANN001
                                                             monkeypatch) -> None:
    _withdrawn(platform, chain_client, 40)
    queued = _deposit(platform, 25)
    assert queued["chain_status"] == "pending"
    assert db_tokens(platform, "WDR", "alice") == 60  # not credited before the chain moved them

    def crash(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemExit("worker killed while waiting for the receipt")

    monkeypatch.setattr(chain_client, "wait", crash)
    with pytest.raises(SystemExit):
        run_agent_jobs(platform.engine, chain_client)
    monkeypatch.undo()
    assert chain_tokens(chain_client, held, "alice") == 85  # sent before the crash ...
    assert db_tokens(platform, "WDR", "alice") == 60  # ... and not credited: not confirmed
    sending = _reconciled(platform, chain_client)
    assert not sending.breaks, sending.to_dict()
    report = run_agent_jobs(platform.engine, chain_client)
    assert (report.done, report.requeued) == (1, 0)
    assert run_agent_jobs(platform.engine, chain_client).done == 0  # credited once
    assert db_tokens(platform, "WDR", "alice") == 85
    assert chain_client.balance_of(held.contract_address, OUTSIDE) == 15 * UNIT
    done = _reconciled(platform, chain_client)
    assert done.ok and not done.breaks and done.summary["withdrawn"] == 15, done.to_dict()
    with platform.engine.connect() as conn:
        assert not [c.name for c in run_checks(conn, platform.admin) if not c.ok]


def test_only_what_the_investor_sent_out_can_come_back(platform, chain_client, held) -> None:  # noqa: ANN001
    _withdrawn(platform, chain_client, 40)
    with pytest.raises(Conflict) as too_many:
        _deposit(platform, 41)
    assert too_many.value.code == "insufficient_funds"
    _deposit(platform, 30)
    with pytest.raises(Conflict):  # 30 of the 40 are already on their way back
        _deposit(platform, 11)
    with pytest.raises(Conflict):  # bob sent nothing there
        _deposit(platform, 1, who="bob@x.io")
    with pytest.raises(Conflict) as taken:  # and cannot withdraw to alice's outside wallet
        with platform.engine.begin() as conn:
            request_token_withdrawal(conn, platform.actor("bob@x.io"), "WDR", 1, OUTSIDE)
    assert taken.value.field == "wallet"
    with pytest.raises(PermissionDenied):
        with platform.engine.begin() as conn:
            request_token_deposit(conn, platform.admin, "WDR", 1, OUTSIDE)


def test_http_deposit_route(platform, chain_client, held, api) -> None:  # noqa: ANN001
    _withdrawn(platform, chain_client, 10)
    body = {"symbol": "WDR", "quantity": 10, "from_wallet": OUTSIDE}
    asked = api.call("POST", "/api/v1/token-deposits", "alice@x.io", json=body)
    assert asked.status_code == 201 and asked.json()["chain_status"] == "pending", asked.text
    again = api.call("POST", "/api/v1/token-deposits", "alice@x.io", json=body)
    assert again.status_code == 409 and again.json()["code"] == "insufficient_funds"


def test_a_matured_token_is_redeemed_only_once_its_outside_tokens_came_back(
        platform, chain_client, held) -> None:  # noqa: ANN001
    _withdrawn(platform, chain_client, 40)
    retire(platform.engine, platform.admin, "WDR", "mature", LIMITS)
    with pytest.raises(Conflict, match="off the platform only while"):
        _ask(platform, 1)
    with platform.engine.begin() as conn, pytest.raises(Conflict) as outside:
        request_redemption(conn, platform.admin, "WDR", "1.00")
    assert outside.value.code == "tokens_off_platform" and "40 WDR" in str(outside.value)
    _deposit(platform, 40)  # after maturity a deposit still comes back, to be redeemed
    assert run_agent_jobs(platform.engine, chain_client).done == 1
    assert db_tokens(platform, "WDR", "alice") == 100
    with platform.engine.begin() as conn:
        assert request_redemption(conn, platform.admin, "WDR", "1.00")["status"] == "pending_approval"
