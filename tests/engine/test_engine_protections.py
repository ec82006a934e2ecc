"""Market protections: circuit breaker, fat-finger and NAV deviation, with time passed in."""

import pytest

from engine import OrderBook
from engine.protections import (
    CircuitBreaker,
    MarketProtections,
    ProtectionConfig,
    fat_finger_refusal,
    nav_deviation_refusal,
)


def test_breaker_trips_on_a_ten_percent_rise_within_five_minutes():
    breaker = CircuitBreaker()
    assert not breaker.record_trade(100, now=0)
    assert not breaker.record_trade(109, now=100)
    assert breaker.record_trade(110, now=299)
    assert breaker.is_tripped(now=300)


def test_breaker_trips_on_a_fall_measured_from_the_window_high():
    breaker = CircuitBreaker()
    for now, price in ((0, 112), (10, 120), (20, 110)):
        assert not breaker.record_trade(price, now)
    assert breaker.record_trade(108, now=30)  # 120 -> 108 is exactly 10%


def test_breaker_ignores_a_move_spread_over_more_than_the_window():
    breaker = CircuitBreaker()
    breaker.record_trade(100, now=0)
    breaker.record_trade(105, now=200)
    assert not breaker.record_trade(110, now=301)  # 100 left the window at 300
    assert not breaker.is_tripped(now=301)


def test_breaker_refuses_orders_until_the_cool_down_ends_then_starts_afresh():
    protections = MarketProtections(ProtectionConfig(circuit_breaker_cooldown_seconds=60))
    book = OrderBook()
    book.submit(1, "a", "sell", "limit", 1, 100)
    book.submit(2, "a", "sell", "limit", 1, 111)
    protections.record_events(book.submit(3, "b", "buy", "market", 1), now=0)
    assert protections.record_events(book.submit(4, "b", "buy", "market", 1), now=5)
    refusal = protections.check_order(100, book.last_price, None, now=64)
    assert refusal.code == "circuit_breaker_tripped"
    assert protections.check_order(None, book.last_price, None, now=64) == refusal
    assert protections.check_order(100, 100, None, now=65) is None
    assert not protections.circuit_breaker.record_trade(100, now=66)  # window was cleared


@pytest.mark.parametrize(("price", "confirmed", "code"), [
    (110, False, None),  # exactly 10%: allowed
    (111, False, "fat_finger_unconfirmed"),
    (111, True, None),
    (89, False, "fat_finger_unconfirmed"),
    (300, True, None),  # exactly 3x: confirmable
    (301, True, "fat_finger_blocked"),
    (33, True, "fat_finger_blocked"),  # under a third
    (34, True, None),
])
def test_fat_finger_bands(price, confirmed, code):
    refusal = fat_finger_refusal(price, 100, confirmed)
    assert (refusal.code if refusal else None) == code


def test_fat_finger_needs_a_last_trade_and_is_configurable():
    assert fat_finger_refusal(10_000, None, False) is None
    assert fat_finger_refusal(150, 100, True, block_bps=15_000) is None
    assert fat_finger_refusal(151, 100, True, block_bps=15_000).code == "fat_finger_blocked"


@pytest.mark.parametrize(("price", "confirmed", "refused"), [
    (120, False, False), (121, False, True), (121, True, False), (79, False, True),
])
def test_nav_deviation_needs_confirmation_beyond_twenty_percent(price, confirmed, refused):
    assert (nav_deviation_refusal(price, 100, confirmed) is not None) == refused


def test_checks_run_in_order_and_can_be_disabled_per_token():
    strict = MarketProtections()
    assert strict.check_order(400, 100, 100, now=0).code == "fat_finger_blocked"
    assert strict.check_order(125, 120, 100, now=0).code == "nav_deviation_unconfirmed"
    relaxed = MarketProtections(ProtectionConfig(fat_finger_enabled=False,
                                                 nav_deviation_enabled=False))
    assert relaxed.check_order(400, 100, 100, now=0) is None


def test_a_self_trade_is_not_counted_by_the_breaker():
    book, protections = OrderBook(), MarketProtections()
    book.submit(1, "alice", "sell", "limit", 1, 100)
    protections.record_events(book.submit(2, "carol", "buy", "limit", 1, 100), now=0)
    book.submit(3, "alice", "buy", "limit", 1, 150)
    washed = book.submit(4, "alice", "sell", "limit", 1, 150)  # STP "none": she meets herself
    assert [e[0] for e in washed].count("trade") == 1
    assert protections.record_events(washed, now=1) is False
    book.submit(5, "bob", "buy", "limit", 1, 150)
    assert protections.record_events(book.submit(6, "alice", "sell", "limit", 1, 150), now=2)


def test_new_thresholds_keep_the_breaker_window():
    protections = MarketProtections()
    protections.circuit_breaker.record_trade(100, now=0)
    protections.configure(ProtectionConfig(circuit_breaker_move_bps=500,
                                           circuit_breaker_cooldown_seconds=60))
    assert protections.circuit_breaker.record_trade(105, now=1)  # 5% from the window's low
    assert protections.circuit_breaker.tripped_until == 61


def test_a_fat_finger_confirmation_of_zero_asks_for_none():
    assert fat_finger_refusal(150, 100, confirmed=False, confirm_bps=0) is None
    assert fat_finger_refusal(400, 100, confirmed=False, confirm_bps=0).code == "fat_finger_blocked"
