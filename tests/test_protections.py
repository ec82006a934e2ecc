"""Market protections and surveillance on the order path (circuit breaker, fat-finger, NAV)."""

from __future__ import annotations

import re

import pytest
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


def test_refusals_speak_usd_as_the_user_wrote_it(market) -> None:  # noqa: ANN001
    _trade_at(market, "26.00")
    far = place(market, "carol", "buy", 1, "40.00")  # the report: "price 4000 ... 2600"
    assert far.json()["detail"] == ("price 40.00 USD is more than 10% away from the last trade"
                                    " 26.00 USD; confirm to place it")
    blocked = place(market, "alice", "sell", 1, "80.00", confirm_fat_finger=True)
    assert blocked.json()["detail"] == ("price 80.00 USD is more than 3x away from the last trade"
                                        " 26.00 USD")
    off_grid = place(market, "carol", "buy", 1, "26.015")
    assert off_grid.json()["detail"] == ("price 26.015 USD is not a multiple of the tick size"
                                         " 0.01 USD")


def test_a_surveillance_alert_names_its_price_in_usd(platform, chain_client) -> None:  # noqa: ANN001
    from decimal import Decimal

    from platform_builders import live_token

    from alefctl.ids import new_id
    from alefctl.workflows.trading.guards import MarketGuards
    from engine import OrderBook

    token = live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    alice, bob = (platform.actor(f"{name}@x.io").user_id for name in ("alice", "bob"))
    book, guards, spoof = OrderBook(), MarketGuards(), new_id()
    steps = [lambda: book.submit(spoof, alice, "buy", "limit", 1000, 4000),  # a large bid ...
             lambda: book.cancel(spoof),  # ... cancelled, then alice sells to bob's bid
             lambda: book.submit(new_id(), bob, "buy", "limit", 1, 3990),
             lambda: book.submit(new_id(), alice, "sell", "limit", 1, 3990)]
    with platform.engine.begin() as conn:
        for second, step in enumerate(steps):
            last_before = book.last_price
            guards.observe(conn, token.id, Decimal("0.01"), book, step(), last_before, second)
        detail = conn.execute(text("SELECT evidence ->> 'detail' FROM surveillance_alerts"
                                   " WHERE kind = 'spoofing'")).scalar_one()
    assert "of 1000 at 40.00 USD cancelled" in detail, detail


def test_nav_deviation_needs_confirmation(market, platform) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        set_nav(conn, platform.admin, "DATE", "10.00")
    far = place(market, "carol", "buy", 1, "12.50")
    assert far.status_code == 422 and far.json()["code"] == "nav_deviation_unconfirmed"
    assert far.json()["detail"] == ("price 12.50 USD is more than 20% away from the NAV 10.00 USD;"
                                    " confirm to place it")
    assert place(market, "carol", "buy", 1, "12.50", confirm_nav_deviation=True).status_code == 201


def test_circuit_breaker_halts_trading_and_is_recorded(market) -> None:  # noqa: ANN001
    _trade_at(market, "10.00")
    _trade_at(market, "11.00")  # a 10% move within five minutes trips the breaker
    halted = place(market, "carol", "buy", 1, "11.00")
    assert halted.status_code == 409 and halted.json()["code"] == "token_halted"
    assert re.fullmatch(r"DATE is halted until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: circuit"
                        r" breaker: .*", halted.json()["detail"])
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


@pytest.mark.parametrize(("ticks", "tick", "shown"), [
    (4000, "0.01", "40.00 USD"), (40005, "0.001", "40.005 USD"), (40000, "0.001", "40.00 USD"),
    (8, "5", "40.00 USD"), (123456789, "0.01", "1,234,567.89 USD")])
def test_one_rule_shows_engine_prices_in_usd(ticks: int, tick: str, shown: str) -> None:
    from decimal import Decimal

    from alefctl.money import format_price

    assert format_price(ticks, Decimal(tick)) == shown  # never rounded to the cent, never ticks
