"""Property tests: the engine against the reference matcher, and invariants of every call."""

from collections import defaultdict

from engine_reference import ReferenceBook
from engine_strategies import call, commands, engine_settings, resolve
from hypothesis import given
from hypothesis import strategies as st

from engine import OrderBook


@engine_settings
@given(commands())
def test_engine_gives_the_reference_events_and_depth(raw_commands):
    book, reference = OrderBook(), ReferenceBook()
    for command in resolve(raw_commands):
        assert call(book, command) == call(reference, command), command
        depth = book.depth(None)
        assert (depth.bids, depth.asks) == reference.depth()
        assert book.last_price == reference.last_price


@engine_settings
@given(commands())
def test_book_is_never_crossed(raw_commands):
    book = OrderBook()
    for command in resolve(raw_commands):
        call(book, command)
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask


@engine_settings
@given(commands())
def test_quantity_is_conserved_and_sequence_numbers_rise_by_one(raw_commands):
    book = OrderBook()
    accepted, filled, cancelled = {}, defaultdict(int), defaultdict(int)
    last_seq = 0
    for command in resolve(raw_commands):
        for event in call(book, command):
            assert event[1] == last_seq + 1
            last_seq = event[1]
            if event[0] == "accepted":
                order_id = event[2]
                if order_id in accepted:  # an id may be reused once its order has finished
                    assert filled.pop(order_id, 0) + cancelled.pop(order_id, 0) \
                        == accepted[order_id]
                accepted[order_id] = event[7]
            elif event[0] == "trade":
                _, _, taker, maker, _, _, _, _, quantity, taker_left, maker_left = event
                filled[taker] += quantity
                filled[maker] += quantity
                assert taker_left == accepted[taker] - filled[taker] - cancelled[taker]
                assert maker_left == accepted[maker] - filled[maker] - cancelled[maker]
            elif event[0] == "cancelled":
                cancelled[event[2]] += event[6]
    for order_id, quantity in accepted.items():
        open_order = book.open_order(order_id)
        still_open = 0
        if open_order is not None:
            still_open = getattr(open_order, "remaining", getattr(open_order, "quantity", 0))
        assert filled[order_id] + cancelled[order_id] + still_open == quantity, order_id


@engine_settings
@given(commands())
def test_trades_follow_price_time_priority(raw_commands):
    """Each fill takes the best price, and within a price the order that rested first."""
    book = OrderBook()
    rested_at = {}  # order id -> seq at which it entered the book
    for command in resolve(raw_commands):
        before = book.snapshot().resting_orders
        events = call(book, command)
        for event in events:
            # A stop enters the book when triggered; an id may be reused once finished.
            if event[0] in ("accepted", "stop_triggered"):
                rested_at[event[2]] = event[1]
        trades = [e for e in events if e[0] == "trade"]
        if command[0] != "submit" or not trades or any(e[0] == "stop_triggered" for e in events):
            continue
        taker_side = trades[0][6]
        makers = [o for o in before if o.side != taker_side]
        makers.sort(key=lambda o: (o.price if taker_side == "buy" else -o.price,
                                   rested_at[o.order_id]))
        skipped = {e[2] for e in events if e[0] == "cancelled" and e[7] == "self_trade"}
        expected = [o.order_id for o in makers if o.order_id not in skipped]
        filled_makers = list(dict.fromkeys(t[3] for t in trades))
        assert filled_makers == expected[:len(filled_makers)]


@engine_settings
@given(commands())
def test_fill_or_kill_is_all_or_nothing(raw_commands):
    book = OrderBook()
    for command in resolve(raw_commands):
        events = call(book, command)
        if command[0] != "submit" or command[1][7] != "FOK" or command[1][3] != "limit":
            continue
        order_id, quantity = command[1][0], command[1][4]
        if events[0][0] == "rejected":
            continue
        filled = sum(e[8] for e in events if e[0] == "trade" and e[2] == order_id)
        killed = [e for e in events if e[0] == "cancelled" and e[2] == order_id]
        assert filled in (0, quantity)
        if filled == 0:
            assert [(e[6], e[7]) for e in killed] == [(quantity, "fok_unfilled")]
        else:
            assert not killed


@engine_settings
@given(commands())
def test_same_commands_give_the_same_events(raw_commands):
    calls = resolve(raw_commands)
    first, second = OrderBook(), OrderBook()
    assert [call(first, c) for c in calls] == [call(second, c) for c in calls]
    assert first.snapshot() == second.snapshot()


@engine_settings
@given(commands(), st.data())
def test_restored_snapshot_behaves_like_the_original(raw_commands, data):
    calls = resolve(raw_commands)
    split = data.draw(st.integers(0, len(calls)))
    original = OrderBook()
    for command in calls[:split]:
        call(original, command)
    restored = OrderBook.restore(original.snapshot())
    assert restored.snapshot() == original.snapshot()
    assert restored.depth(None) == original.depth(None)
    for command in calls[split:]:
        assert call(restored, command) == call(original, command)
    assert restored.snapshot() == original.snapshot()
