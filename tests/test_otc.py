"""Fixed-price OTC: orders wait for an admin; approval trades against the treasury."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from server_client import place
from sqlalchemy import text

from alefctl.errors import Conflict
from alefctl.workflows.investment_limits import invested
from alefctl.workflows.otc import set_trading_mode


@pytest.fixture
def otc_market(market, platform):  # noqa: ANN001, ANN201
    with platform.engine.begin() as conn:
        set_trading_mode(conn, platform.admin, "DATE", "fixed_price_otc", "10.00")
    return market


def _fiat(api, name: str) -> Decimal:  # noqa: ANN001
    with api.engine.connect() as conn:
        return conn.execute(text("SELECT fiat_balance FROM users WHERE email = :e"),
                            {"e": f"{name}@x.io"}).scalar_one()


def _invested(api, name: str) -> Decimal:  # noqa: ANN001
    with api.engine.connect() as conn:
        user_id = conn.execute(text("SELECT id FROM users WHERE email = :e"),
                               {"e": f"{name}@x.io"}).scalar_one()
        return invested(conn, user_id, datetime.now(UTC))


def test_buy_waits_then_executes_against_the_treasury(otc_market) -> None:  # noqa: ANN001
    start = _fiat(otc_market, "carol")
    placed = place(otc_market, "carol", "buy", 10, "10.00")
    assert placed.status_code == 201 and placed.json()["status"] == "pending"
    assert _fiat(otc_market, "carol") == start - Decimal("100.00")
    off_price = place(otc_market, "carol", "buy", 1, "11.00")
    assert off_price.status_code == 422
    queue = otc_market.call("GET", "/api/v1/admin/otc-orders", "admin@x.io").json()
    assert [o["id"] for o in queue] == [placed.json()["id"]]
    assert otc_market.call("POST", f"/api/v1/admin/otc-orders/{placed.json()['id']}", "carol@x.io",
                           json={"decision": "approve"}).status_code == 403
    invested_while_pending = _invested(otc_market, "carol")
    done = otc_market.call("POST", f"/api/v1/admin/otc-orders/{placed.json()['id']}",
                           "admin@x.io", json={"decision": "approve"}).json()
    assert done["status"] == "executed" and done["trade_id"]
    with otc_market.engine.connect() as conn:
        trade = conn.execute(text("SELECT price, quantity, settlement_status FROM trades")).one()
        carol_tokens = conn.execute(text(
            "SELECT balance FROM wallets w JOIN users u ON u.id = w.user_id"
            " WHERE u.email = 'carol@x.io'")).scalar_one()
    assert tuple(trade) == (Decimal("10.00"), 10, "pending") and carol_tokens == 10
    # executed, the buy counts once towards the 12-month limit (as the trade it became)
    assert _invested(otc_market, "carol") == invested_while_pending


def test_reject_returns_the_locked_tokens(otc_market) -> None:  # noqa: ANN001
    placed = place(otc_market, "alice", "sell", 5, "10.00").json()
    assert placed["locked_quantity"] == 5
    no_reason = otc_market.call("POST", f"/api/v1/admin/otc-orders/{placed['id']}", "admin@x.io",
                                json={"decision": "reject"})
    assert no_reason.status_code == 422
    rejected = otc_market.call("POST", f"/api/v1/admin/otc-orders/{placed['id']}", "admin@x.io",
                               json={"decision": "reject", "reason": "outside hours"}).json()
    assert rejected["status"] == "rejected"
    with otc_market.engine.connect() as conn:
        locked = conn.execute(text("SELECT locked_balance FROM wallets w JOIN users u ON"
                                   " u.id = w.user_id WHERE u.email = 'alice@x.io'")).scalar_one()
    assert locked == 0


def test_mode_switch_needs_an_empty_book(market, platform) -> None:  # noqa: ANN001
    place(market, "carol", "buy", 1, "9.00")
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="open orders"):
        set_trading_mode(conn, platform.admin, "DATE", "fixed_price_otc", "10.00")
