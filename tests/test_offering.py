"""The primary offering end to end on the embedded database and EVM: money is conserved."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from platform_builders import live_token, wallet_for
from sqlalchemy import text

from alefctl.errors import Conflict, InsufficientFunds, InvalidInput, PermissionDenied
from alefctl.workflows.lifecycle import enable_secondary, start_offering
from alefctl.workflows.offering import confirm_payments, reject_allocation, subscribe
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.tokens import get_token


def _fiat_total(conn) -> Decimal:  # noqa: ANN001
    return conn.execute(text(
        "SELECT (SELECT sum(fiat_balance) FROM users) + (SELECT sum(escrow_balance) FROM tokens)"
    )).scalar_one()


@pytest.fixture
def offering(platform, chain_client):  # noqa: ANN001, ANN201
    """DATE deployed and in its primary offering: 10,000 supply, 80% offered at $10."""
    platform.draft_token("DATE", min_investment=5)
    deploy_token(platform.engine, platform.admin, "DATE", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "DATE")
    return platform


def test_deploy_is_recorded_and_idempotent(platform, chain_client) -> None:  # noqa: ANN001
    platform.draft_token("ONCE")
    first = deploy_token(platform.engine, platform.admin, "ONCE", chain_client)
    again = deploy_token(platform.engine, platform.admin, "ONCE", chain_client)
    assert again["already_deployed"] and again["token"]["contract_address"] == \
        first["token"]["contract_address"]
    with platform.engine.connect() as conn:
        rows = conn.execute(text("SELECT purpose, gas_used, status FROM gas_transactions"
                                 " ORDER BY created_at")).all()
    assert [r.purpose for r in rows] == ["deploy:identity_registry", "deploy:compliance",
                                         "deploy:token", "deploy:identity_registry_agent",
                                         "deploy:token_agent"]
    assert all(r.status == "confirmed" and r.gas_used > 0 for r in rows)
    assert chain_client.total_supply(first["token"]["contract_address"]) == 0


def test_subscribe_confirm_go_live_conserves_money(offering) -> None:  # noqa: ANN001
    alice = offering.approved("alice", wallet=wallet_for("alice"), fiat="1000")
    bob = offering.approved("bob", wallet=wallet_for("bob"), fiat="500")
    with offering.engine.begin() as conn:
        before = _fiat_total(conn)
        subscribe(conn, alice, "DATE", 60)
        b = subscribe(conn, bob, "DATE", 50)
        assert get_token(conn, "DATE").tokens_reserved == 110
    with offering.engine.begin() as conn:
        reject_allocation(conn, offering.admin, str(b.id), "payment not received")
        confirmed = confirm_payments(conn, offering.admin, "DATE")
        token = get_token(conn, "DATE")
        assert [a.quantity for a in confirmed] == [60]
        assert (token.tokens_sold, token.tokens_reserved, token.total_raised) == (
            60, 0, Decimal("600.00"))
        assert _fiat_total(conn) == before
    with offering.engine.begin() as conn:
        result = enable_secondary(conn, offering.admin, "DATE", Decimal("2.5"))
        balances = dict(conn.execute(text("SELECT email, fiat_balance FROM users")).all())
        treasury_tokens = conn.execute(text(
            "SELECT w.balance FROM wallets w JOIN users u ON u.id = w.user_id"
            " WHERE u.email = 'treasury@system.alefctl'")).scalar_one()
        assert _fiat_total(conn) == before
    assert result["success_fee"] == Decimal("15.00") and result["issuer_proceeds"] == Decimal("585.00")
    assert balances["alice@x.io"] == Decimal("400.00") and balances["bob@x.io"] == Decimal("500.00")
    assert balances["treasury@system.alefctl"] == Decimal("15.00")
    assert balances["issuer@x.io"] == Decimal("585.00")
    assert treasury_tokens == 500  # 5% of the supply at go-live


def test_subscription_refusals(offering) -> None:  # noqa: ANN001
    us = offering.approved("dave", nationality="US", wallet=wallet_for("dave"), fiat="1000")
    no_wallet = offering.approved("nowallet", fiat="1000")
    poor = offering.approved("poor", wallet=wallet_for("poor"), fiat="10")
    pending = offering.person("pending", wallet=wallet_for("pending"))
    ok = offering.approved("ok", wallet=wallet_for("ok"), fiat="100000")
    with offering.engine.begin() as conn:
        with pytest.raises(PermissionDenied, match="FATCA"):
            subscribe(conn, us, "DATE", 10)
        with pytest.raises(Conflict, match="wallet"):
            subscribe(conn, no_wallet, "DATE", 10)
        with pytest.raises(InsufficientFunds):
            subscribe(conn, poor, "DATE", 10)
        with pytest.raises(PermissionDenied, match="KYC"):
            subscribe(conn, pending, "DATE", 10)
        with pytest.raises(InvalidInput, match="minimum investment"):
            subscribe(conn, ok, "DATE", 4)
        with pytest.raises(Conflict, match="only 8000"):
            subscribe(conn, ok, "DATE", 8001)
        with pytest.raises(PermissionDenied):
            subscribe(conn, offering.admin, "DATE", 10)


def test_fifty_concurrent_subscriptions_never_oversell(offering) -> None:  # noqa: ANN001
    investors = [offering.approved(f"inv{i}", wallet=wallet_for(f"inv{i}"), fiat="2000")
                 for i in range(50)]
    with offering.engine.begin() as conn:  # leave 1,000 tokens: 20 of the 50 can get 50 each
        subscribe(conn, offering.approved("whale", wallet=wallet_for("whale"), fiat="100000"),
                  "DATE", 7000)
    outcomes: list[str] = []

    def buy(investor) -> None:  # noqa: ANN001
        try:
            with offering.engine.begin() as conn:
                subscribe(conn, investor, "DATE", 50)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("sold out")

    threads = [threading.Thread(target=buy, args=(inv,)) for inv in investors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with offering.engine.connect() as conn:
        token = get_token(conn, "DATE")
    assert outcomes.count("ok") == 20 and outcomes.count("sold out") == 30
    assert token.tokens_reserved == 8000 == token.primary_cap


def test_live_token_helper_builds_a_trading_token(platform, chain_client) -> None:  # noqa: ANN001
    token = live_token(platform, chain_client, "LIVE", {"alice": 100, "bob": 50})
    assert (token.status, token.trading_mode, token.tokens_sold) == ("secondary", "full_orderbook", 150)
