"""One test per matching rule of issue 5, on small hand-built books."""

import pytest

from engine import OrderBook, named


def kinds(events):
    return [event[0] for event in events]


def trades(events):
    """(taker, maker, price, quantity) of each trade."""
    return [(e[2], e[3], e[7], e[8]) for e in events if e[0] == "trade"]


def cancels(events):
    """(order_id, remaining, reason) of each cancel."""
    return [(e[2], e[6], e[7]) for e in events if e[0] == "cancelled"]


def limit(book, order_id, side, quantity, price, user=None, tif="GTC", stp="none"):
    return book.submit(order_id, user or f"u{order_id}", side, "limit", quantity, price,
                       time_in_force=tif, self_trade_prevention=stp)


def market(book, order_id, side, quantity, user=None, stp="none", cap=None):
    return book.submit(order_id, user or f"u{order_id}", side, "market", quantity,
                       self_trade_prevention=stp, notional_cap=cap)


def stop(book, order_id, side, quantity, stop_price, price=None, tif="GTC", user=None):
    order_type = "stop_loss" if price is None else "stop_limit"
    return book.submit(order_id, user or f"u{order_id}", side, order_type, quantity, price,
                       stop_price, tif)


def levels(book):
    depth = book.depth(None)
    return ([tuple(level) for level in depth.bids], [tuple(level) for level in depth.asks])


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


# --- stops ---------------------------------------------------------------------------------

def test_stop_waits_without_a_trade_even_if_book_would_meet_it():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    assert kinds(stop(book, 2, "buy", 1, stop_price=50)) == ["accepted"]
    assert book.open_order(2).stop_price == 50


def test_buy_stop_triggers_when_last_price_reaches_it():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    limit(book, 2, "sell", 5, 105)
    stop(book, 3, "buy", 2, stop_price=100)
    events = limit(book, 4, "buy", 1, 100)
    assert kinds(events) == ["accepted", "trade", "stop_triggered", "trade"]
    assert events[2] == ("stop_triggered", 6, 3, 100, 100)
    assert trades(events)[1] == (3, 1, 100, 2)


def test_sell_stop_does_not_trigger_above_its_price():
    book = OrderBook()
    limit(book, 1, "buy", 5, 100)
    stop(book, 2, "sell", 2, stop_price=99)
    assert "stop_triggered" not in kinds(market(book, 3, "sell", 1))
    limit(book, 4, "buy", 5, 99)
    market(book, 5, "sell", 4)  # empties 100
    assert kinds(market(book, 6, "sell", 1)) == [
        "accepted", "trade", "stop_triggered", "trade"]


def test_stop_whose_condition_holds_on_arrival_triggers_at_once():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    market(book, 2, "buy", 1)
    events = stop(book, 3, "buy", 2, stop_price=95)
    assert kinds(events) == ["accepted", "stop_triggered", "trade"]


def test_earliest_arrived_stop_triggers_first_and_the_cascade_repeats():
    book = OrderBook()
    limit(book, 1, "buy", 1, 100)
    limit(book, 2, "buy", 1, 99)
    limit(book, 3, "buy", 1, 98)
    stop(book, 10, "sell", 1, stop_price=100)  # arrives first
    stop(book, 11, "sell", 1, stop_price=101)  # further from the price, but arrived later
    events = market(book, 4, "sell", 1)  # trades at 100: both stops met
    triggered = [e[2] for e in events if e[0] == "stop_triggered"]
    assert triggered == [10, 11]
    assert trades(events) == [(4, 1, 100, 1), (10, 2, 99, 1), (11, 3, 98, 1)]


def test_stop_limit_becomes_a_limit_order_that_rests_at_its_price():
    book = OrderBook()
    limit(book, 1, "sell", 1, 100)
    stop(book, 2, "buy", 5, stop_price=100, price=101)
    events = market(book, 3, "buy", 1)
    assert kinds(events) == ["accepted", "trade", "stop_triggered"]
    assert levels(book) == ([(101, 5, 1)], [])
    assert book.open_order(2).remaining == 5


def test_stop_limit_keeps_its_time_in_force():
    book = OrderBook()
    limit(book, 1, "sell", 1, 100)
    stop(book, 2, "buy", 5, stop_price=100, price=101, tif="IOC")
    events = market(book, 3, "buy", 1)
    assert cancels(events) == [(2, 5, "ioc_remainder")]


def test_pending_stop_can_be_cancelled_and_then_never_triggers():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    stop(book, 2, "buy", 2, stop_price=100)
    assert cancels(book.cancel(2)) == [(2, 2, "user")]
    assert "stop_triggered" not in kinds(market(book, 3, "buy", 1))


# --- cancels -------------------------------------------------------------------------------

def test_cancel_resting_order_reports_what_was_left():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    market(book, 2, "buy", 2)
    assert book.cancel(1) == [("cancelled", 4, 1, "u1", "sell", 100, 3, "user")]
    assert levels(book) == ([], [])


@pytest.mark.parametrize("setup", ["unknown", "filled", "cancelled"])
def test_cancel_of_no_open_order_is_a_rejection_that_changes_nothing(setup):
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    limit(book, 9, "sell", 5, 101)
    if setup == "filled":
        market(book, 2, "buy", 5)
    elif setup == "cancelled":
        book.cancel(1)
    before = book.snapshot()
    events = book.cancel(1 if setup != "unknown" else 42)
    assert kinds(events) == ["rejected"] and events[0][3] == "order_not_found"
    assert book.snapshot().resting_orders == before.resting_orders


def test_cancelled_orders_are_skipped_by_matching():
    book = OrderBook()
    for order_id in (1, 2, 3):
        limit(book, order_id, "sell", 1, 100)
    book.cancel(2)
    assert trades(limit(book, 4, "buy", 2, 100)) == [(4, 1, 100, 1), (4, 3, 100, 1)]


# --- self-trade prevention -----------------------------------------------------------------

def test_without_prevention_a_user_trades_with_themselves():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100, user="me")
    assert trades(limit(book, 2, "buy", 5, 100, user="me")) == [(2, 1, 100, 5)]


def test_cancel_taker_keeps_earlier_fills_and_the_maker():
    book = OrderBook()
    limit(book, 1, "sell", 2, 100, user="other")
    limit(book, 2, "sell", 5, 100, user="me")
    events = limit(book, 3, "buy", 5, 100, user="me", stp="cancel_taker")
    assert trades(events) == [(3, 1, 100, 2)]
    assert cancels(events) == [(3, 3, "self_trade")]
    assert levels(book) == ([], [(100, 5, 1)])


def test_cancel_maker_removes_own_order_and_keeps_matching():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100, user="me")
    limit(book, 2, "sell", 5, 100, user="other")
    events = limit(book, 3, "buy", 5, 100, user="me", stp="cancel_maker")
    assert cancels(events) == [(1, 5, "self_trade")]
    assert trades(events) == [(3, 2, 100, 5)]


def test_cancel_both_removes_both():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100, user="me")
    events = limit(book, 2, "buy", 3, 100, user="me", stp="cancel_both")
    assert cancels(events) == [(1, 5, "self_trade"), (2, 3, "self_trade")]
    assert levels(book) == ([], [])


# --- validation and sequence numbers -------------------------------------------------------

@pytest.mark.parametrize(("order", "reason"), [
    (dict(side="hold", order_type="limit", quantity=1, price=100), "invalid_side"),
    (dict(side="buy", order_type="iceberg", quantity=1, price=100), "invalid_order_type"),
    (dict(side="buy", order_type="limit", quantity=0, price=100), "invalid_quantity"),
    (dict(side="buy", order_type="limit", quantity=1.5, price=100), "invalid_quantity"),
    (dict(side="buy", order_type="limit", quantity=True, price=100), "invalid_quantity"),
    (dict(side="buy", order_type="limit", quantity=1), "invalid_price"),
    (dict(side="buy", order_type="limit", quantity=1, price=-3), "invalid_price"),
    (dict(side="buy", order_type="limit", quantity=1, price=100.0), "invalid_price"),
    (dict(side="buy", order_type="market", quantity=1, price=100), "invalid_price"),
    (dict(side="buy", order_type="stop_loss", quantity=1), "invalid_stop_price"),
    (dict(side="buy", order_type="limit", quantity=1, price=100, stop_price=90),
     "invalid_stop_price"),
    (dict(side="buy", order_type="limit", quantity=1, price=100, time_in_force="GTD"),
     "invalid_time_in_force"),
    (dict(side="buy", order_type="limit", quantity=1, price=100,
          self_trade_prevention="decrement"), "invalid_self_trade_prevention"),
])
def test_invalid_orders_are_rejected_with_a_reason(order, reason):
    book = OrderBook()
    limit(book, 7, "sell", 1, 100)
    assert book.submit(1, "u", **order) == [("rejected", 2, 1, reason)]
    assert levels(book) == ([], [(100, 1, 1)])


@pytest.mark.parametrize("open_kind", ["resting", "stop"])
def test_duplicate_of_an_open_order_id_is_rejected(open_kind):
    book = OrderBook()
    if open_kind == "resting":
        limit(book, 1, "sell", 1, 100)
    else:
        stop(book, 1, "sell", 1, stop_price=90)
    assert limit(book, 1, "buy", 1, 90) == [("rejected", 2, 1, "duplicate_order_id")]


def test_sequence_numbers_rise_by_one_across_calls():
    book = OrderBook()
    limit(book, 1, "sell", 2, 100)
    events = limit(book, 2, "buy", 3, 100, tif="IOC") + book.cancel(99) + market(book, 3, "buy", 1)
    assert [e[1] for e in events] == list(range(2, 2 + len(events)))
    assert book.sequence == events[-1][1]


def test_named_gives_attribute_access_equal_to_the_tuple():
    event = OrderBook().cancel(5)[0]
    assert named(event).reason == "order_not_found" and named(event) == event
    assert named(event)._asdict() == {"kind": "rejected", "seq": 1, "order_id": 5,
                                      "reason": "order_not_found"}


def test_enum_members_and_plain_strings_give_the_same_events():
    from engine import OrderType, SelfTradePrevention, Side, TimeInForce

    plain, typed = OrderBook(), OrderBook()
    orders = [
        ((1, "me", "sell", "limit", 5, 100), (1, "me", Side.SELL, OrderType.LIMIT, 5, 100)),
        ((2, "me", "buy", "limit", 7, 100, None, "IOC", "cancel_maker"),
         (2, "me", Side.BUY, OrderType.LIMIT, 7, 100, None, TimeInForce.IOC,
          SelfTradePrevention.CANCEL_MAKER)),
        ((3, "x", "sell", "stop_limit", 2, 95, 99, "FOK", "cancel_both"),
         (3, "x", Side.SELL, OrderType.STOP_LIMIT, 2, 95, 99, TimeInForce.FOK,
          SelfTradePrevention.CANCEL_BOTH)),
        ((4, "y", "buy", "market", 1, None, None, "GTC", "none", 500),
         (4, "y", Side.BUY, OrderType.MARKET, 1, None, None, TimeInForce.GTC,
          SelfTradePrevention.NONE, 500)),
    ]
    for plain_order, typed_order in orders:
        assert plain.submit(*plain_order) == typed.submit(*typed_order)
    assert plain.snapshot() == typed.snapshot()
