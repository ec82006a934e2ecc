"""Rules of issue 5 for limit and market orders, time in force and the notional cap."""

import pytest
from engine_helpers import cancels, kinds, levels, limit, market, trades

from engine import OrderBook, named

# --- limit orders and priority -------------------------------------------------------------

def test_limit_order_that_does_not_cross_rests():
    book = OrderBook()
    assert kinds(limit(book, 1, "buy", 5, 100)) == ["accepted"]
    assert book.best_bid() == 100 and book.best_ask() is None
    assert levels(book) == ([(100, 5, 1)], [])


def test_trade_happens_at_the_maker_price():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    events = limit(book, 2, "buy", 5, 103)
    assert trades(events) == [(2, 1, 100, 5)]
    assert book.last_price == 100


def test_better_price_fills_first_then_earlier_order_at_same_price():
    book = OrderBook()
    limit(book, 1, "sell", 5, 101)
    limit(book, 2, "sell", 5, 100)
    limit(book, 3, "sell", 5, 100)
    events = limit(book, 4, "buy", 12, 101)
    assert trades(events) == [(4, 2, 100, 5), (4, 3, 100, 5), (4, 1, 101, 2)]
    assert levels(book) == ([], [(101, 3, 1)])


def test_trade_event_reports_both_remainders():
    book = OrderBook()
    limit(book, 1, "sell", 10, 100, user="alice")
    event = named(limit(book, 2, "buy", 4, 100, user="bob")[1])
    assert event == ("trade", 3, 2, 1, "bob", "alice", "buy", 100, 4, 0, 6)
    assert (event.taker_remaining, event.maker_remaining, event.taker_side) == (0, 6, "buy")


def test_partially_filled_maker_keeps_its_place():
    book = OrderBook()
    limit(book, 1, "buy", 10, 100)
    limit(book, 2, "buy", 10, 100)
    limit(book, 3, "sell", 4, 100)
    assert trades(limit(book, 4, "sell", 7, 100)) == [(4, 1, 100, 6), (4, 2, 100, 1)]


def test_limit_remainder_rests_after_sweeping():
    book = OrderBook()
    limit(book, 1, "sell", 3, 100)
    limit(book, 2, "buy", 5, 101)
    assert levels(book) == ([(101, 2, 1)], [])


# --- time in force -------------------------------------------------------------------------

def test_ioc_remainder_is_cancelled_and_never_rests():
    book = OrderBook()
    limit(book, 1, "sell", 3, 100)
    events = limit(book, 2, "buy", 5, 100, tif="IOC")
    assert trades(events) == [(2, 1, 100, 3)]
    assert cancels(events) == [(2, 2, "ioc_remainder")]
    assert levels(book) == ([], [])


def test_fok_that_cannot_fill_completely_changes_nothing():
    book = OrderBook()
    limit(book, 1, "sell", 3, 100)
    limit(book, 2, "sell", 3, 102)
    events = limit(book, 3, "buy", 5, 101, tif="FOK")
    assert kinds(events) == ["accepted", "cancelled"]
    assert cancels(events) == [(3, 5, "fok_unfilled")]
    assert levels(book) == ([], [(100, 3, 1), (102, 3, 1)])


def test_fok_that_can_fill_fills_across_levels():
    book = OrderBook()
    limit(book, 1, "sell", 3, 100)
    limit(book, 2, "sell", 3, 101)
    events = limit(book, 3, "buy", 5, 101, tif="FOK")
    assert trades(events) == [(3, 1, 100, 3), (3, 2, 101, 2)]
    assert cancels(events) == []


def test_fok_counts_own_orders_as_unavailable_under_cancel_taker():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100, user="me")
    limit(book, 2, "sell", 5, 100, user="other")
    events = limit(book, 3, "buy", 5, 100, user="me", tif="FOK", stp="cancel_taker")
    assert cancels(events) == [(3, 5, "fok_unfilled")]
    assert levels(book) == ([], [(100, 10, 2)])


def test_fok_skips_own_orders_under_cancel_maker():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100, user="me")
    limit(book, 2, "sell", 5, 100, user="other")
    events = limit(book, 3, "buy", 5, 100, user="me", tif="FOK", stp="cancel_maker")
    assert cancels(events) == [(1, 5, "self_trade")]
    assert trades(events) == [(3, 2, 100, 5)]


# --- market orders -------------------------------------------------------------------------

def test_market_order_never_rests():
    book = OrderBook()
    limit(book, 1, "buy", 2, 99)
    events = market(book, 2, "sell", 5)
    assert trades(events) == [(2, 1, 99, 2)]
    assert cancels(events) == [(2, 3, "market_unfilled")]
    assert levels(book) == ([], [])


def test_market_order_on_empty_book_is_cancelled_whole():
    events = market(OrderBook(), 1, "buy", 5)
    assert kinds(events) == ["accepted", "cancelled"]
    assert cancels(events) == [(1, 5, "market_unfilled")]


def test_notional_cap_limits_what_a_market_buy_spends():
    book = OrderBook()
    limit(book, 1, "sell", 2, 100)
    limit(book, 2, "sell", 5, 110)
    events = market(book, 3, "buy", 10, cap=500)  # 2 x 100, then 300 // 110 = 2 more
    assert trades(events) == [(3, 1, 100, 2), (3, 2, 110, 2)]
    assert cancels(events) == [(3, 6, "notional_cap")]
    assert levels(book) == ([], [(110, 3, 1)])


def test_notional_cap_too_small_for_one_unit_trades_nothing():
    book = OrderBook()
    limit(book, 1, "sell", 2, 100)
    assert cancels(market(book, 2, "buy", 1, cap=99)) == [(2, 1, "notional_cap")]


def test_notional_cap_that_suffices_changes_nothing():
    book = OrderBook()
    limit(book, 1, "sell", 2, 100)
    assert cancels(market(book, 2, "buy", 2, cap=200)) == []


@pytest.mark.parametrize("order", [
    dict(side="sell", order_type="market"),
    dict(side="buy", order_type="limit", price=100),
    dict(side="buy", order_type="stop_limit", price=100, stop_price=100),
])
def test_notional_cap_only_on_market_and_stop_loss_buys(order):
    events = OrderBook().submit(1, "u", quantity=1, notional_cap=100, **order)
    assert events == [("rejected", 1, 1, "invalid_notional_cap")]
