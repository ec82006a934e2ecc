"""Market protections and surveillance on the order path (circuit breaker, fat-finger, NAV)."""

from __future__ import annotations

from server_client import place
from sqlalchemy import text

from alefctl.workflows.tokens import set_nav


def _trade_at(market, price: str, **flags) -> None:  # noqa: ANN001, ANN003
    assert place(market, "alice", "sell", 1, price, **flags).status_code == 201
    assert place(market, "carol", "buy", 1, price, **flags).json()["status"] == "filled"


def test_fat_finger_needs_confirmation_then_blocks(market) -> None:  # noqa: ANN001
    _trade_at(market, "10.00")
    assert place(market, "carol", "buy", 1, "10.50").status_code == 201  # within 10%
    unconfirmed = place(market, "carol", "buy", 1, "8.50")
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["code"] == "fat_finger_unconfirmed"
    assert unconfirmed.json()["field"] == "confirm_fat_finger"
    assert place(market, "carol", "buy", 1, "8.50", confirm_fat_finger=True).status_code == 201
    blocked = place(market, "alice", "sell", 1, "31.00", confirm_fat_finger=True)
    assert blocked.status_code == 422 and blocked.json()["code"] == "fat_finger_blocked"


def test_nav_deviation_needs_confirmation(market, platform) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        set_nav(conn, platform.admin, "DATE", "10.00")
    far = place(market, "carol", "buy", 1, "12.50")
    assert far.status_code == 422 and far.json()["code"] == "nav_deviation_unconfirmed"
    assert place(market, "carol", "buy", 1, "12.50", confirm_nav_deviation=True).status_code == 201


def test_circuit_breaker_halts_trading_and_is_recorded(market) -> None:  # noqa: ANN001
    _trade_at(market, "10.00")
    _trade_at(market, "11.00")  # a 10% move within five minutes trips the breaker
    halted = place(market, "carol", "buy", 1, "11.00")
    assert halted.status_code == 409 and halted.json()["code"] == "circuit_breaker_tripped"
    with market.engine.connect() as conn:
        event = conn.execute(text("SELECT reference_price, trigger_price, resets_at > tripped_at"
                                  " FROM circuit_breaker_events")).one()
    assert tuple(event) == (event[0], event[1], True) and str(event[1]) == "11.00"


def test_wash_trade_raises_a_surveillance_alert(market) -> None:  # noqa: ANN001
    place(market, "alice", "buy", 1, "9.00")
    filled = place(market, "alice", "sell", 1, "9.00", self_trade_prevention="none")
    assert filled.json()["status"] == "filled"
    with market.engine.connect() as conn:
        alert = conn.execute(text("SELECT kind, status, evidence FROM surveillance_alerts")).one()
    assert alert.kind == "wash_trading" and alert.status == "open" and alert.evidence["events"]


def test_self_trade_prevention_cancels_the_taker_by_default(market) -> None:  # noqa: ANN001
    place(market, "alice", "buy", 1, "9.00")
    taker = place(market, "alice", "sell", 1, "9.00").json()
    assert taker["status"] == "cancelled" and taker["cancel_reason"] == "self_trade"
