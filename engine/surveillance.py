"""Surveillance detectors over a book's event stream: wash trading, spoofing, layering.

They read the events the book returns (plus ``now`` and the top of book after the call, which
the caller passes in) and return alerts carrying the events that are their evidence. They keep
only what their time windows need, so memory stays bounded. Thresholds are per token.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class SurveillanceConfig:
    """Per-token thresholds."""

    wash_min_trades: int = 1  # self-trades by one owner within the window that raise an alert
    wash_window_seconds: float = 3_600.0
    spoof_min_quantity: int = 1_000  # a "large" order, by the quantity cancelled
    spoof_near_top_ticks: int = 2  # within this many ticks of its side's best price
    spoof_window_seconds: float = 10.0  # between the cancel and the opposite-side fill
    layering_min_levels: int = 3  # distinct prices cancelled on one side ...
    layering_window_seconds: float = 10.0  # ... this soon after a fill on the other side


class Alert(NamedTuple):
    """A suspicion, with the events that support it."""

    kind: str  # wash_trading, spoofing, layering
    user_id: Any
    detected_at: float
    evidence: tuple[tuple, ...]  # event tuples, in the order they happened
    detail: str  # the words; `{price}` in them stands for `price`, in ticks
    price: int | None = None

    def text(self, price_text: Callable[[int], str]) -> str:
        """The detail with its price rendered by ``price_text`` (the caller's units)."""
        if self.price is None:
            return self.detail
        return self.detail.replace("{price}", price_text(self.price))


class Surveillance:
    """The three detectors of one token behind one call."""

    def __init__(self, config: SurveillanceConfig | None = None) -> None:
        self.config = config or SurveillanceConfig()
        self.wash_trading = WashTradingDetector(self.config)
        self.spoofing = SpoofingDetector(self.config)
        self.layering = LayeringDetector(self.config)

    def observe(self, events, now: float, best_bid: int | None = None,
                best_ask: int | None = None) -> list[Alert]:
        """Feed one call's events; return the alerts they raise."""
        alerts = self.wash_trading.observe(events, now)
        alerts += self.spoofing.observe(events, now, best_bid, best_ask)
        alerts += self.layering.observe(events, now)
        return alerts


def fills_by_user(trade: tuple) -> tuple[tuple[Any, str], tuple[Any, str]]:
    """(user, side) of the taker and of the maker of a trade event."""
    taker_side = trade[6]
    maker_side = "sell" if taker_side == "buy" else "buy"
    return (trade[4], taker_side), (trade[5], maker_side)


def _expire(records: deque, horizon: float) -> None:
    while records and records[0][0] < horizon:
        records.popleft()


class WashTradingDetector:
    """The same beneficial owner on both sides of a trade."""

    def __init__(self, config: SurveillanceConfig) -> None:
        self.config = config
        self._self_trades: deque[tuple[float, Any, tuple]] = deque()  # (time, user, trade)

    def observe(self, events, now: float) -> list[Alert]:
        alerts = []
        _expire(self._self_trades, now - self.config.wash_window_seconds)
        for event in events:
            if event[0] != "trade" or event[4] != event[5]:
                continue
            user = event[4]
            self._self_trades.append((now, user, event))
            trades = tuple(t for _, u, t in self._self_trades if u == user)
            if len(trades) >= self.config.wash_min_trades:
                alerts.append(Alert("wash_trading", user, now, trades,
                                    f"{len(trades)} trade(s) with the same owner on both sides"))
                self._self_trades = deque(r for r in self._self_trades if r[1] != user)
        return alerts


class SpoofingDetector:
    """A large order near the top, cancelled shortly before (or after) an opposite-side fill."""

    def __init__(self, config: SurveillanceConfig) -> None:
        self.config = config
        self._cancels: deque[tuple[float, Any, str, tuple]] = deque()  # (time, user, side, ev)
        self._fills: deque[tuple[float, Any, str, tuple]] = deque()

    def observe(self, events, now: float, best_bid: int | None,
                best_ask: int | None) -> list[Alert]:
        horizon = now - self.config.spoof_window_seconds
        _expire(self._cancels, horizon)
        _expire(self._fills, horizon)
        alerts = []
        for event in events:
            if event[0] == "cancelled" and self._is_large_near_top(event, best_bid, best_ask):
                user, side = event[3], event[4]
                fill = self._take(self._fills, user, _opposite(side))
                if fill is None:
                    self._cancels.append((now, user, side, event))
                else:
                    alerts.append(self._alert(user, now, (fill, event)))
            elif event[0] == "trade":
                for user, side in fills_by_user(event):
                    cancel = self._take(self._cancels, user, _opposite(side))
                    if cancel is None:
                        self._fills.append((now, user, side, event))
                    else:
                        alerts.append(self._alert(user, now, (cancel, event)))
        return alerts

    def _is_large_near_top(self, cancel: tuple, best_bid, best_ask) -> bool:
        _, _, _, _, side, price, remaining, reason = cancel
        if reason != "user" or price is None or remaining < self.config.spoof_min_quantity:
            return False
        near = self.config.spoof_near_top_ticks
        # The top after the call: if this order was the best, it is now better than the top.
        if side == "buy":
            return best_bid is None or price >= best_bid - near
        return best_ask is None or price <= best_ask + near

    @staticmethod
    def _take(records: deque, user, side) -> tuple | None:
        for record in records:
            if record[1] == user and record[2] == side:
                records.remove(record)
                return record[3]
        return None

    @staticmethod
    def _alert(user, now: float, evidence: tuple) -> Alert:
        cancel = evidence[0] if evidence[0][0] == "cancelled" else evidence[1]
        return Alert("spoofing", user, now, evidence,
                     f"large {cancel[4]} order {cancel[2]!r} of {cancel[6]} at {{price}} "
                     "cancelled around a fill on the other side", cancel[5])


class LayeringDetector:
    """Orders at several price levels on one side cancelled just after a fill on the other."""

    def __init__(self, config: SurveillanceConfig) -> None:
        self.config = config
        # (time, user, fill side, trade, cancels so far, alerted?) per recent fill
        self._fills: deque[list] = deque()

    def observe(self, events, now: float) -> list[Alert]:
        _expire(self._fills, now - self.config.layering_window_seconds)
        alerts = []
        for event in events:
            if event[0] == "trade":
                for user, side in fills_by_user(event):
                    self._fills.append([now, user, side, event, [], False])
            elif event[0] == "cancelled" and event[7] == "user" and event[5] is not None:
                user, side = event[3], event[4]
                for fill in reversed(self._fills):  # the latest fill on the other side
                    if fill[1] == user and fill[2] == _opposite(side):
                        alert = self._add_cancel(fill, event, now)
                        if alert is not None:
                            alerts.append(alert)
                        break
        return alerts

    def _add_cancel(self, fill: list, cancel: tuple, now: float) -> Alert | None:
        fill[4].append(cancel)
        levels = {c[5] for c in fill[4]}
        if fill[5] or len(levels) < self.config.layering_min_levels:
            return None
        fill[5] = True
        return Alert("layering", fill[1], now, (fill[3], *fill[4]),
                     f"{len(fill[4])} {cancel[4]} orders at {len(levels)} price levels "
                     "cancelled after a fill on the other side")


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"
