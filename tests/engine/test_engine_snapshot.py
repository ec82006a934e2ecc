"""Snapshot and restore, market data, and memory that follows open orders only."""

import pytest

from engine import BookSnapshot, BookStateError, OrderBook, PendingStop, RestingOrder


def build_book():
    book = OrderBook()
    book.submit(1, "a", "sell", "limit", 5, 101)
    book.submit(2, "b", "sell", "limit", 3, 101)
    book.submit(3, "c", "buy", "limit", 4, 99)
    book.submit(4, "d", "buy", "market", 1)  # last price 101
    book.submit(5, "e", "sell", "stop_loss", 2, None, 98)
    book.submit(6, "f", "buy", "stop_limit", 1, 110, 105, "IOC", "cancel_maker")
    return book


def test_snapshot_lists_resting_orders_in_priority_and_stops_in_arrival_order():
    snapshot = build_book().snapshot()
    assert snapshot == BookSnapshot(
        resting_orders=(RestingOrder(3, "c", "buy", 99, 4), RestingOrder(1, "a", "sell", 101, 4),
                        RestingOrder(2, "b", "sell", 101, 3)),
        pending_stops=(PendingStop(5, "e", "sell", "stop_loss", 2, 98, None, "IOC", "none"),
                       PendingStop(6, "f", "buy", "stop_limit", 1, 105, 110, "IOC",
                                   "cancel_maker")),
        last_price=101, sequence=7)


def test_restored_book_continues_exactly_like_the_original():
    original = build_book()
    restored = OrderBook.restore(original.snapshot())
    for book in (original, restored):
        book.submit(7, "g", "sell", "limit", 2, 99)
    follow_up = [("submit", (8, "h", "buy", "market", 9)), ("cancel", (5,)),
                 ("submit", (9, "i", "sell", "market", 3))]
    for kind, arguments in follow_up:
        assert getattr(original, kind)(*arguments) == getattr(restored, kind)(*arguments)
    assert restored.snapshot() == original.snapshot()


def test_restore_accepts_database_rows_in_time_order():
    rows = (RestingOrder("x", 1, "sell", 101, 2), RestingOrder("y", 2, "buy", 99, 1),
            RestingOrder("z", 3, "sell", 101, 5))
    book = OrderBook.restore(BookSnapshot(rows, last_price=100, sequence=41))
    events = book.submit("t", 4, "buy", "limit", 3, 101)
    assert [(e[3], e[8]) for e in events if e[0] == "trade"] == [("x", 2), ("z", 1)]
    assert events[0][1] == 42


@pytest.mark.parametrize("snapshot", [
    BookSnapshot((RestingOrder(1, 1, "buy", 101, 1), RestingOrder(2, 2, "sell", 100, 1))),
    BookSnapshot((RestingOrder(1, 1, "buy", 101, 1), RestingOrder(1, 2, "buy", 100, 1))),
    BookSnapshot((RestingOrder(1, 1, "buy", 0, 1),)),
    BookSnapshot((RestingOrder(1, 1, "buy", 10, 0),)),
    BookSnapshot((RestingOrder(1, 1, "hold", 10, 1),)),
    BookSnapshot(pending_stops=(PendingStop(1, 1, "buy", "limit", 1, 10, 10),)),
    BookSnapshot(pending_stops=(PendingStop(1, 1, "buy", "stop_loss", 1, -5),)),
    BookSnapshot(last_price=0),
])
def test_inconsistent_snapshot_is_refused(snapshot):
    with pytest.raises(BookStateError):
        OrderBook.restore(snapshot)


def test_depth_aggregates_levels_best_first_and_stops_at_n():
    book = OrderBook()
    for order_id, (side, quantity, price) in enumerate(
            [("buy", 1, 98), ("buy", 2, 99), ("buy", 3, 99), ("sell", 4, 101), ("sell", 5, 103),
             ("sell", 6, 102)]):
        book.submit(order_id, "u", side, "limit", quantity, price)
    book.cancel(1)
    depth = book.depth(2)
    assert [tuple(level) for level in depth.bids] == [(99, 3, 1), (98, 1, 1)]
    assert [tuple(level) for level in depth.asks] == [(101, 4, 1), (102, 6, 1)]
    assert book.levels(2) == (((99, 3), (98, 1)), ((101, 4), (102, 6)))
    assert (book.best_bid(), book.best_ask(), book.last_price) == (99, 101, None)


def test_finished_orders_are_not_retained():
    book = OrderBook()
    for order_id in range(0, 20_000, 2):
        book.submit(order_id, "a", "sell", "limit", 1, 100)
        book.submit(order_id + 1, "b", "buy", "limit", 1, 100)
    assert book.open_order_count() == (0, 0)
    assert book._live == {} and book._asks.levels == {} and book._asks.ranks == []


def test_cancelled_entries_do_not_pile_up_behind_a_long_lived_order():
    book = OrderBook()
    book.submit("old", "a", "sell", "limit", 1, 100)
    for order_id in range(10_000):
        book.submit(order_id, "a", "sell", "limit", 1, 100)
        book.cancel(order_id)
    queue = book._asks.levels[-100][2]
    assert len(queue) <= 40
    assert book.depth().asks[0] == (100, 1, 1)
