"""Market protections checked around the book: circuit breaker, fat-finger, NAV deviation.

Pure and clock-free: the caller passes ``now`` (seconds, any consistent clock) and the prices
(integer ticks, like the book). Ratios are in basis points (1% = 100 bps) so every check is
exact integer arithmetic. One ``MarketProtections`` per token, each with its own config.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

BPS = 10_000


@dataclass(frozen=True)
class ProtectionConfig:
    """Per-token thresholds; the defaults are the platform's."""

    circuit_breaker_enabled: bool = True
    circuit_breaker_move_bps: int = 1_000  # trips on a move of 10% or more ...
    circuit_breaker_window_seconds: float = 300.0  # ... within 5 minutes
    circuit_breaker_cooldown_seconds: float = 300.0  # orders are refused this long
    fat_finger_enabled: bool = True
    fat_finger_block_bps: int = 30_000  # more than 3x (or under 1/3) the last price: blocked
    fat_finger_confirm_bps: int = 1_000  # more than 10% away: needs confirm_fat_finger
    nav_deviation_enabled: bool = True
    nav_deviation_confirm_bps: int = 2_000  # more than 20% from NAV: needs confirm_nav_deviation


class ProtectionRefusal(NamedTuple):
    """Why an order may not go to the book; ``code`` is stable, for API problem types.

    The words are a template whose ``{price}`` and ``{reference}`` (the last trade or the NAV)
    stand for prices in ticks and ``{until}`` for a time on the caller's clock: ``text`` fills
    them in the caller's units (a price in ticks means nothing to the person who sent it)."""

    code: str  # circuit_breaker_tripped, fat_finger_blocked, fat_finger_unconfirmed,
    # nav_deviation_unconfirmed
    template: str
    price: int | None = None
    reference: int | None = None
    until: float | None = None

    @property
    def message(self) -> str:
        """The words in the engine's own units: prices in ticks, the time as given."""
        return self.text(str, str)

    def text(self, price_text: Callable[[int], str], time_text: Callable[[float], str]) -> str:
        """The words with each price rendered by ``price_text`` and the time by ``time_text``."""
        return self.template.format(
            price="" if self.price is None else price_text(self.price),
            reference="" if self.reference is None else price_text(self.reference),
            until="" if self.until is None else time_text(self.until))


class CircuitBreaker:
    """Trips when trade prices within the window span the configured move; then cools down."""

    def __init__(self, move_bps: int = 1_000, window_seconds: float = 300.0,
                 cooldown_seconds: float = 300.0) -> None:
        self.move_bps = move_bps
        self.window_seconds = window_seconds
        self.cooldown_seconds = cooldown_seconds
        self.tripped_until: float | None = None
        # Monotonic deques of (time, price): the window's lowest and highest at the front.
        self._lows: deque[tuple[float, int]] = deque()
        self._highs: deque[tuple[float, int]] = deque()

    def is_tripped(self, now: float) -> bool:
        """Whether orders must be refused at this time; clears the trip once cooled down."""
        if self.tripped_until is None:
            return False
        if now < self.tripped_until:
            return True
        self.reset()
        return False

    def record_trade(self, price: int, now: float) -> bool:
        """Feed one trade price; return True if this trade trips the breaker."""
        if self.is_tripped(now):
            return False  # already halted: the move that tripped it is not counted twice
        horizon = now - self.window_seconds
        for window, worse in ((self._lows, lambda kept: kept >= price),
                              (self._highs, lambda kept: kept <= price)):
            while window and window[0][0] < horizon:
                window.popleft()
            while window and worse(window[-1][1]):
                window.pop()
            window.append((now, price))
        low, high = self._lows[0][1], self._highs[0][1]
        # A move of at least move_bps from either end of the window to this price.
        if (price - low) * BPS >= self.move_bps * low or \
                (high - price) * BPS >= self.move_bps * high:
            self.tripped_until = now + self.cooldown_seconds
            return True
        return False

    def reset(self) -> None:
        """Clear the trip and the price window (an admin reset, or the end of a cool-down)."""
        self.tripped_until = None
        self._lows.clear()
        self._highs.clear()


def fat_finger_refusal(price: int, last_price: int | None, confirmed: bool,
                       block_bps: int = 30_000, confirm_bps: int = 1_000
                       ) -> ProtectionRefusal | None:
    """Refuse a price far from the last trade: blocked outright, or unless confirmed (no
    confirmation is asked for when ``confirm_bps`` is 0)."""
    if last_price is None:
        return None
    if price * BPS > last_price * block_bps or price * block_bps < last_price * BPS:
        return ProtectionRefusal("fat_finger_blocked",
                                 f"price {{price}} is more than {block_bps / BPS:g}x away from "
                                 "the last trade {reference}", price, last_price)
    if not confirmed and confirm_bps and abs(price - last_price) * BPS > confirm_bps * last_price:
        return ProtectionRefusal("fat_finger_unconfirmed",
                                 f"price {{price}} is more than {confirm_bps / 100:g}% away from "
                                 "the last trade {reference}; confirm to place it",
                                 price, last_price)
    return None


def nav_deviation_refusal(price: int, nav: int | None, confirmed: bool,
                          confirm_bps: int = 2_000) -> ProtectionRefusal | None:
    """Refuse, unless confirmed, a price too far from the latest NAV (in ticks)."""
    if nav is None or confirmed or abs(price - nav) * BPS <= confirm_bps * nav:
        return None
    return ProtectionRefusal("nav_deviation_unconfirmed",
                             f"price {{price}} is more than {confirm_bps / 100:g}% away from "
                             "the NAV {reference}; confirm to place it", price, nav)


class MarketProtections:
    """All pre-trade checks of one token, in the spec's order, plus its circuit breaker."""

    def __init__(self, config: ProtectionConfig | None = None) -> None:
        self.config = config or ProtectionConfig()
        self.circuit_breaker = CircuitBreaker(self.config.circuit_breaker_move_bps,
                                              self.config.circuit_breaker_window_seconds,
                                              self.config.circuit_breaker_cooldown_seconds)

    def configure(self, config: ProtectionConfig) -> None:
        """Take new thresholds; the breaker keeps its price window and any trip."""
        if config == self.config:
            return
        self.config = config
        breaker = self.circuit_breaker
        breaker.move_bps = config.circuit_breaker_move_bps
        breaker.window_seconds = config.circuit_breaker_window_seconds
        breaker.cooldown_seconds = config.circuit_breaker_cooldown_seconds

    def check_order(self, price: int | None, last_price: int | None, nav: int | None,
                    now: float, confirm_fat_finger: bool = False,
                    confirm_nav_deviation: bool = False) -> ProtectionRefusal | None:
        """The first refusal for an order at this price (None for market orders), or None."""
        config = self.config
        if config.circuit_breaker_enabled and self.circuit_breaker.is_tripped(now):
            until = self.circuit_breaker.tripped_until
            return ProtectionRefusal("circuit_breaker_tripped",
                                     "trading is halted by the circuit breaker until {until}",
                                     until=until)
        if price is None:
            return None
        if config.fat_finger_enabled:
            refusal = fat_finger_refusal(price, last_price, confirm_fat_finger,
                                         config.fat_finger_block_bps,
                                         config.fat_finger_confirm_bps)
            if refusal is not None:
                return refusal
        if config.nav_deviation_enabled:
            return nav_deviation_refusal(price, nav, confirm_nav_deviation,
                                         config.nav_deviation_confirm_bps)
        return None

    def record_events(self, events, now: float) -> bool:
        """Feed a call's events to the circuit breaker; return True if it tripped. A self-trade
        (one owner on both sides, allowed with self-trade prevention "none") is no market price:
        it is not counted, so nobody can halt a token for everyone by trading with themself."""
        tripped = False
        if self.config.circuit_breaker_enabled:
            for event in events:
                if event[0] == "trade" and event[4] != event[5] and \
                        self.circuit_breaker.record_trade(event[7], now):
                    tripped = True
        return tripped
