"""Offerings that hold in every case (issue 19): sell-out, cancellation, window, soft cap,
per-investor bounds, USDC raise, team and reserve allocations, investment limits."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from platform_builders import wallet_for
from sqlalchemy import text

from alefctl.errors import Conflict, InvalidInput
from alefctl.workflows.lifecycle import enable_secondary, start_offering
from alefctl.workflows.money import Entry, move_money
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.offering_admin import (
    cancel_offering,
    fail_due_offerings,
    set_offering_window,
)
from alefctl.workflows.onchain.burning import run_burn_jobs
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.tokens import get_token
from alefctl.workflows.trading.funds import NotionalLimits

LIMITS = NotionalLimits(Decimal(500), Decimal(5000), Decimal(50000))


def _offering(platform, chain_client, symbol: str = "DATE", **token):  # noqa: ANN001, ANN003, ANN202
    platform.draft_token(symbol, **token)
    deploy_token(platform.engine, platform.admin, symbol, chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, symbol)
    return platform


def _money(conn, email: str) -> tuple[Decimal, Decimal]:  # noqa: ANN001
    row = conn.execute(text(
        "SELECT u.fiat_balance, coalesce(b.balance, 0) AS usdc FROM users u LEFT JOIN"
        " user_balances b ON b.user_id = u.id AND b.currency = 'USDC' WHERE u.email = :e"),
        {"e": email}).one()
    return row.fiat_balance, row.usdc


def test_a_sell_out_goes_live(platform, chain_client) -> None:  # noqa: ANN001
    """Default primary share: what team (10%) and the platform (5%) leave; all of it sells."""
    platform.draft_token("SOLD", supply=1000, primary_pct=None, allocation_pct="5",
                         team_pct="10")
    deploy_token(platform.engine, platform.admin, "SOLD", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "SOLD")
        assert get_token(conn, "SOLD").primary_cap == 850
    whale = platform.approved("whale", wallet=wallet_for("whale"), fiat="10000")
    with platform.engine.begin() as conn:
        subscribe(conn, whale, "SOLD", 850)
        with pytest.raises(Conflict, match="only 0"):
            subscribe(conn, whale, "SOLD", 1)
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, "SOLD")
        result = enable_secondary(conn, platform.admin, "SOLD", Decimal("2"))
        kinds = dict(conn.execute(text(
            "SELECT allocation_type, sum(quantity) FROM token_allocations a JOIN tokens t"
            " ON t.id = a.token_id WHERE t.symbol = 'SOLD' GROUP BY allocation_type")).all())
    assert result["treasury_allocation"] == 50
    assert kinds == {"primary": 850, "go_live": 50, "team": 100}
    with platform.engine.begin() as conn:  # the issuer's designated wallet receives the team's
        conn.execute(text("UPDATE users SET wallet_address = :w WHERE email = 'issuer@x.io'"),
                     {"w": wallet_for("issuer")})
    assert run_mint_jobs(platform.engine, chain_client).failed == 0
    token = get_token(platform.engine.connect(), "SOLD")
    assert chain_client.total_supply(token.contract_address) == 1000 * 10 ** token.decimals


def test_the_split_must_fit_the_supply(platform) -> None:  # noqa: ANN001
    with pytest.raises(InvalidInput, match="at most 100") as error:
        platform.draft_token("OVER", primary_pct="80", allocation_pct="5", team_pct="20")
    assert error.value.field == "primary_offering_pct"


def test_cancel_refunds_everyone_and_burns_minted_tokens(platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client)
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="1000")
    bob = platform.approved("bob", wallet=wallet_for("bob"), fiat="1000")
    with platform.engine.begin() as conn:
        paid = subscribe(conn, alice, "DATE", 30)
        confirm_payments(conn, platform.admin, "DATE", [str(paid.id)])
        subscribe(conn, bob, "DATE", 20)  # still pending payment
    assert run_mint_jobs(platform.engine, chain_client).minted == 1
    contract = get_token(platform.engine.connect(), "DATE").contract_address
    assert chain_client.total_supply(contract) > 0
    with platform.engine.begin() as conn:
        result = cancel_offering(conn, platform.admin, "DATE", "issuer withdrew")
    assert sorted(r["was"] for r in result["refunds"]) == ["confirmed", "pending_payment"]
    assert result["refunded"] == Decimal("500.00")
    with platform.engine.begin() as conn:
        token = get_token(conn, "DATE")
        assert (token.status, token.cancel_reason) == ("cancelled", "issuer withdrew")
        assert (token.escrow_balance, token.tokens_sold, token.tokens_reserved) == (0, 0, 0)
        assert _money(conn, "alice@x.io")[0] == _money(conn, "bob@x.io")[0] == Decimal("1000.00")
        held = conn.execute(text("SELECT coalesce(sum(balance), 0) FROM wallets w JOIN tokens t"
                                 " ON t.id = w.token_id WHERE t.symbol = 'DATE'")).scalar_one()
        notified = conn.execute(text("SELECT count(*) FROM notifications WHERE kind ="
                                     " 'offering_cancelled' AND user_id IS NOT NULL")).scalar_one()
        again = cancel_offering(conn, platform.admin, "DATE", "twice")
    assert (held, notified, again["already_cancelled"]) == (0, 2, True)
    assert run_mint_jobs(platform.engine, chain_client).minted == 0  # nothing left to mint
    assert run_burn_jobs(platform.engine, chain_client).burned == 1
    assert chain_client.total_supply(contract) == 0
    assert run_burn_jobs(platform.engine, chain_client).burned == 0  # never twice


def test_a_burn_that_times_out_after_broadcast_is_never_sent_twice(
        platform, chain_client, monkeypatch) -> None:  # noqa: ANN001
    _offering(platform, chain_client)
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="1000")
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, "DATE", [str(subscribe(conn, alice, "DATE", 30).id)])
    assert run_mint_jobs(platform.engine, chain_client).minted == 1
    with platform.engine.begin() as conn:
        cancel_offering(conn, platform.admin, "DATE", "issuer withdrew")
    contract = get_token(platform.engine.connect(), "DATE").contract_address

    def timed_out(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise TimeoutError("no receipt in time")  # the burn was broadcast and will be mined

    monkeypatch.setattr(chain_client, "wait", timed_out)
    assert run_burn_jobs(platform.engine, chain_client).failed == 1
    monkeypatch.undo()
    with platform.engine.begin() as conn:
        state = conn.execute(text("SELECT on_chain_status, burn_tx_hash IS NOT NULL FROM"
                                  " token_allocations")).one()
    assert tuple(state) == ("burning", True)  # kept for recovery, not claimed again
    assert run_burn_jobs(platform.engine, chain_client).burned == 1  # recovered from its hash
    assert chain_client.total_supply(contract) == 0
    with platform.engine.begin() as conn:
        sent = conn.execute(text("SELECT count(*) FROM gas_transactions WHERE purpose = 'burn'"))
        assert sent.scalar_one() == 1


def test_the_window_moves_but_never_into_the_past(platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client)
    later = datetime.now().astimezone() + timedelta(days=60)
    with platform.engine.begin() as conn:
        assert set_offering_window(conn, platform.admin, "DATE", later).primary_end == later
        with pytest.raises(InvalidInput, match="future"):
            set_offering_window(conn, platform.admin, "DATE",
                                datetime.now().astimezone() - timedelta(minutes=1))


def test_below_the_soft_cap_the_offering_fails_and_refunds(platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client, soft_cap="1000.00")
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="1000")
    with platform.engine.begin() as conn:
        subscribe(conn, alice, "DATE", 50)
        confirm_payments(conn, platform.admin, "DATE")
        with pytest.raises(Conflict, match="soft cap"):
            enable_secondary(conn, platform.admin, "DATE", Decimal("2"))
        end = get_token(conn, "DATE").primary_end
    assert fail_due_offerings(platform.engine, platform.admin, end - timedelta(seconds=1)) == ([], [])
    failed, problems = fail_due_offerings(platform.engine, platform.admin, end + timedelta(seconds=1))
    assert problems == []
    assert [f["token"]["status"] for f in failed] == ["cancelled"]
    with platform.engine.begin() as conn:
        assert get_token(conn, "DATE").cancel_reason == "soft cap not reached"
        assert _money(conn, "alice@x.io")[0] == Decimal("1000.00")
    assert fail_due_offerings(platform.engine, platform.admin, end + timedelta(days=1)) == ([], [])


def test_one_offering_that_cannot_fail_does_not_hold_up_the_others(platform, chain_client) -> None:  # noqa: ANN001
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="5000")
    for symbol in ("STUCK", "DATE"):
        _offering(platform, chain_client, symbol, soft_cap="1000.00")
        with platform.engine.begin() as conn:
            subscribe(conn, alice, symbol, 10)
            confirm_payments(conn, platform.admin, symbol)
    with platform.engine.begin() as conn:  # STUCK's tokens are no longer free to give back
        conn.execute(text("UPDATE wallets SET locked_balance = balance WHERE token_id ="
                          " (SELECT id FROM tokens WHERE symbol = 'STUCK')"))
        end = max(get_token(conn, s).primary_end for s in ("STUCK", "DATE"))
    failed, problems = fail_due_offerings(platform.engine, platform.admin, end + timedelta(seconds=1))
    assert [f["token"]["symbol"] for f in failed] == ["DATE"]
    assert len(problems) == 1 and problems[0].startswith("offering STUCK could not be failed")
    with platform.engine.begin() as conn:
        assert get_token(conn, "STUCK").status == "primary"  # untouched, retried next run


def test_min_and_max_bound_the_sum_of_investors_subscriptions(platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client, min_investment=10, max_investment=40)
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="5000")
    with platform.engine.begin() as conn:
        with pytest.raises(InvalidInput, match="at least"):
            subscribe(conn, alice, "DATE", 5)
        subscribe(conn, alice, "DATE", 25)
        subscribe(conn, alice, "DATE", 5)  # 30 in all: above the minimum
        with pytest.raises(Conflict, match="you may add 10") as error:
            subscribe(conn, alice, "DATE", 11)
    assert error.value.code == "max_investment"


def test_a_usdc_raise_takes_usdc(platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client, raise_currency="USDC")
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="1000")
    with platform.engine.begin() as conn:
        move_money(conn, alice.user_id, "USDC", Decimal("300"), Entry("deposit"))
        subscribe(conn, alice, "DATE", 20)
        assert _money(conn, "alice@x.io") == (Decimal("1000.00"), Decimal("100.00"))
    with platform.engine.begin() as conn:
        cancel_offering(conn, platform.admin, "DATE", "test")
        assert _money(conn, "alice@x.io") == (Decimal("1000.00"), Decimal("300.00"))


def test_subscriptions_count_against_the_12_month_limit(platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client)
    carol = platform.approved("carol", wallet=wallet_for("carol"), fiat="10000")  # professional
    with platform.engine.begin() as conn:
        subscribe(conn, carol, "DATE", 300, limits=LIMITS)
        subscribe(conn, carol, "DATE", 150, limits=LIMITS)
        with pytest.raises(Conflict, match="room left 500.00") as error:
            subscribe(conn, carol, "DATE", 51, limits=LIMITS)
    assert error.value.code == "investment_limit" and error.value.exit_code == 5


def test_buys_count_against_the_12_month_limit_and_sells_never_do(market, platform) -> None:  # noqa: ANN001
    from server_client import place

    platform.approved("dave", level=1, wallet=wallet_for("dave"), fiat="5000")  # retail: $500
    first = place(market, "dave", "buy", 40, "10.00")
    assert first.status_code == 201, first.text
    assert place(market, "dave", "buy", 10, "10.00").status_code == 201
    refused = place(market, "dave", "buy", 1, "10.00")
    assert (refused.status_code, refused.json()["code"]) == (409, "investment_limit")
    assert "room left 0.00" in refused.json()["detail"]
    market.call("DELETE", f"/api/v1/orders/{first.json()['id']}", "dave@x.io")
    assert place(market, "dave", "buy", 40, "10.00").status_code == 201  # cancelled: room again
    sold = place(market, "alice", "sell", 100, "60.00", confirm_fat_finger=True,
                 confirm_nav_deviation=True)  # $6,000: above alice's $5,000, a sell
    assert sold.status_code == 201, sold.text


def test_locked_up_team_tokens_cannot_be_sold(platform, chain_client, api) -> None:  # noqa: ANN001
    from platform_builders import live_token
    from server_client import place

    from alefctl.ids import new_id
    from alefctl.workflows.money import credit_tokens

    until = datetime.now().astimezone() + timedelta(days=365)
    token = live_token(platform, chain_client, "DATE", {"alice": 100}, lockup_until=until)
    with platform.engine.begin() as conn:  # alice is also a designated wallet of the team's
        alice = conn.execute(text("SELECT id FROM users WHERE email = 'alice@x.io'")).scalar_one()
        conn.execute(text(
            "INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type,"
            " status) VALUES (:id, :t, :u, 50, 'team', 'confirmed')"),
            {"id": new_id(), "t": token.id, "u": alice})
        credit_tokens(conn, alice, token.id, 50)
    refused = place(api, "alice", "sell", 120, "10.00")
    assert (refused.status_code, refused.json()["code"]) == (409, "locked_up")
    assert "you may sell or move 100" in refused.json()["detail"]
    assert place(api, "alice", "sell", 100, "10.00").status_code == 201


def test_offering_commands(cli, platform, chain_client) -> None:  # noqa: ANN001
    _offering(platform, chain_client)
    alice = platform.approved("alice", level=1, wallet=wallet_for("alice"), fiat="1000")
    over = cli.as_user(alice.email)("token", "subscribe", "DATE", "--quantity", "60")
    assert over.exit_code == 5 and "room left 500.00" in over.stderr  # retail: $500 a year
    assert cli.as_user(alice.email).json("token", "subscribe", "DATE", "--quantity", "40")[
        "amount"] == "400.00"
    later = (datetime.now().astimezone() + timedelta(days=9)).isoformat()
    assert cli.json("offering", "window", "DATE", "--ends-at", later)["primary_end"] is not None
    assert cli("offering", "window", "DATE", "--ends-at", "2000-01-01").exit_code == 2
    assert cli.as_user(alice.email)("offering", "cancel", "DATE", "--reason", "x",
                                    "--yes").exit_code == 4
    assert cli("offering", "cancel", "DATE", "--reason", "x").exit_code == 2  # needs --yes
    cancelled = cli.json("offering", "cancel", "DATE", "--reason", "issuer withdrew", "--yes")
    assert cancelled["token"]["status"] == "cancelled" and cancelled["refunded"] == "400.00"
    assert cli("offering", "window", "DATE", "--ends-at", later).exit_code == 5
    assert cli.json("offering", "fail-due") == []


def test_offering_administration_over_http(platform, chain_client, api) -> None:  # noqa: ANN001
    _offering(platform, chain_client)
    past = api.call("POST", "/api/v1/admin/tokens/DATE/offering-window", "admin@x.io",
                    json={"ends_at": "2000-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.headers["content-type"] == "application/problem+json"
    assert api.call("POST", "/api/v1/admin/tokens/DATE/cancel-offering", "issuer@x.io",
                    json={"reason": "mine"}).status_code == 403
    done = api.call("POST", "/api/v1/admin/tokens/DATE/cancel-offering", "admin@x.io",
                    json={"reason": "withdrawn"})
    assert done.status_code == 200 and done.json()["token"]["status"] == "cancelled"
    later = api.call("POST", "/api/v1/admin/tokens/DATE/offering-window", "admin@x.io",
                     json={"ends_at": "2099-01-01T00:00:00Z"})
    assert (later.status_code, later.json()["code"]) == (409, "conflict")
