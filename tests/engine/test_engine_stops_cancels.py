"""Rules of issue 5 for stops, cancels, self-trade prevention, validation and sequence."""

import pytest
from engine_helpers import cancels, kinds, levels, limit, market, stop, trades

from engine import OrderBook, named

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


def test_a_stop_the_gate_refuses_is_cancelled_when_it_triggers_and_the_next_one_runs():
    book = OrderBook()
    limit(book, 1, "sell", 5, 100)
    stop(book, 2, "buy", 2, stop_price=100)
    stop(book, 3, "buy", 1, stop_price=100)
    asked = []

    def gate(order_id, user_id, price, events_so_far):
        asked.append((order_id, price, [e[0] for e in events_so_far]))
        return "owner_ineligible" if order_id == 2 else None

    book.stop_gate = gate
    events = limit(book, 4, "buy", 1, 100)
    assert kinds(events) == ["accepted", "trade", "stop_triggered", "cancelled",
                             "stop_triggered", "trade"]
    assert cancels(events)[0][0] == 2 and events[3][-1] == "owner_ineligible"
    assert asked[0] == (2, None, ["accepted", "trade", "stop_triggered"])
    assert book.open_order(2) is None and trades(events)[1][0] == 3


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


def test_a_self_trade_sets_no_last_price_and_triggers_no_stop():
    book = OrderBook()
    stop(book, 1, "sell", 5, 90)  # would trigger at 90 or below
    limit(book, 2, "buy", 10, 100, user="w")
    limit(book, 3, "sell", 10, 100, user="v")  # a market trade at 100
    assert book.last_price == 100
    limit(book, 4, "buy", 5, 80, user="w")
    events = limit(book, 5, "sell", 5, 80, user="w")  # wash trade at 80: no price, no stop
    assert trades(events) == [(5, 4, 80, 5)] and "stop_triggered" not in kinds(events)
    assert book.last_price == 100


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
    (dict(side="buy", order_type="limit", quantity=1, price=100, time_in_force="GTT"),
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


def test_dated_orders_rest_like_gtc_and_cancel_with_the_callers_reason():
    """GTD and DAY rest (the caller expires them); cancel carries the reason it is given."""
    book = OrderBook()
    for n, tif in enumerate(("GTD", "DAY"), start=1):
        events = book.submit(n, "u", "buy", "limit", 5, 100, time_in_force=tif)
        assert [e[0] for e in events] == ["accepted"]
    assert [(lv.price, lv.quantity) for lv in book.depth().bids] == [(100, 10)]
    assert book.cancel(1, "expired")[0][-1] == "expired"
    assert book.cancel(2)[0][-1] == "user"
    assert book.open_order_count() == (0, 0)


def test_reduce_keeps_time_priority_and_refuses_what_it_cannot_do():
    book = OrderBook()
    book.submit(1, "a", "sell", "limit", 10, 100)
    book.submit(2, "b", "sell", "limit", 10, 100)
    reduced = book.reduce(1, 4)
    assert named(reduced[0]).remaining == 4 and reduced[0][0] == "reduced"
    assert [(lv.price, lv.quantity) for lv in book.depth().asks] == [(100, 14)]
    trades = [e for e in book.submit(3, "c", "buy", "limit", 5, 100) if e[0] == "trade"]
    assert [(named(t).maker_order_id, named(t).quantity) for t in trades] == [(1, 4), (2, 1)]
    assert book.reduce(2, 9)[0][0] == "rejected"  # not below what it has (9 left)
    assert book.reduce(2, 0)[0][0] == "rejected"
    assert book.reduce(99, 1)[0][0] == "rejected"
