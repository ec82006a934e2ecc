"""Surveillance detectors fed with real book events."""

from engine import OrderBook
from engine.surveillance import Surveillance, SurveillanceConfig

CONFIG = SurveillanceConfig(spoof_min_quantity=100, spoof_window_seconds=10,
                            layering_min_levels=3, layering_window_seconds=10)


class Session:
    """A book and its surveillance, driven with explicit times."""

    def __init__(self, config=CONFIG):
        self.book = OrderBook()
        self.surveillance = Surveillance(config)
        self.next_id = 0

    def submit(self, now, user, side, quantity, price=None):
        self.next_id += 1
        order_type = "market" if price is None else "limit"
        events = self.book.submit(self.next_id, user, side, order_type, quantity, price)
        return self.next_id, self._observe(events, now)

    def cancel(self, now, order_id):
        return self._observe(self.book.cancel(order_id), now)

    def _observe(self, events, now):
        return self.surveillance.observe(events, now, self.book.best_bid(), self.book.best_ask())


def test_wash_trade_alert_carries_the_trade():
    session = Session()
    session.submit(0, "owner", "sell", 5, 100)
    _, alerts = session.submit(1, "owner", "buy", 5, 100)
    assert [(a.kind, a.user_id) for a in alerts] == [("wash_trading", "owner")]
    assert alerts[0].evidence[0][0] == "trade" and alerts[0].evidence[0][4] == "owner"


def test_trades_between_different_owners_raise_nothing():
    session = Session()
    session.submit(0, "a", "sell", 5, 100)
    assert session.submit(1, "b", "buy", 5, 100)[1] == []


def test_wash_trading_threshold_counts_within_the_window():
    session = Session(SurveillanceConfig(wash_min_trades=2, wash_window_seconds=60))
    for now in (0, 100):
        session.submit(now, "owner", "sell", 1, 100)
        assert session.submit(now, "owner", "buy", 1, 100)[1] == []  # 100 s apart: no alert
    session.submit(110, "owner", "sell", 1, 100)
    assert [a.kind for a in session.submit(110, "owner", "buy", 1, 100)[1]] == ["wash_trading"]


def test_spoofing_large_bid_cancelled_then_selling():
    session = Session()
    session.submit(0, "mm", "buy", 10, 99)
    session.submit(0, "buyer", "buy", 5, 100)
    spoof, _ = session.submit(1, "spoofer", "buy", 500, 100)
    assert session.cancel(3, spoof) == []
    _, alerts = session.submit(5, "spoofer", "sell", 5, 100)  # sells into the bid it propped
    assert [(a.kind, a.user_id) for a in alerts] == [("spoofing", "spoofer")]
    assert [e[0] for e in alerts[0].evidence] == ["cancelled", "trade"]


def test_no_spoofing_for_small_far_or_slow_cancels():
    session = Session()
    session.submit(0, "buyer", "buy", 5, 100)
    small, _ = session.submit(0, "s", "buy", 50, 100)
    far, _ = session.submit(0, "s", "buy", 500, 90)
    slow, _ = session.submit(0, "s", "buy", 500, 100)
    session.cancel(1, small)
    session.cancel(1, far)
    session.cancel(1, slow)
    assert session.submit(20, "s", "sell", 5, 100)[1] == []


def test_layering_several_levels_cancelled_after_an_opposite_fill():
    session = Session()
    layers = [session.submit(0, "layer", "buy", 10, price)[0] for price in (97, 98, 99)]
    session.submit(0, "buyer", "buy", 5, 100)
    session.submit(1, "layer", "sell", 5, 100)  # the fill on the other side
    assert session.cancel(2, layers[0]) == [] and session.cancel(2, layers[1]) == []
    alerts = session.cancel(3, layers[2])
    assert [(a.kind, a.user_id) for a in alerts] == [("layering", "layer")]
    assert [e[0] for e in alerts[0].evidence] == ["trade", "cancelled", "cancelled", "cancelled"]


def test_no_layering_when_cancels_come_late_or_on_one_level():
    session = Session()
    ids = [session.submit(0, "u", "buy", 10, 98)[0] for _ in range(3)]
    late = session.submit(0, "u", "buy", 10, 97)[0]
    session.submit(0, "buyer", "buy", 5, 100)
    session.submit(1, "u", "sell", 5, 100)
    assert [session.cancel(2, order_id) for order_id in ids] == [[], [], []]
    assert session.cancel(30, late) == []
