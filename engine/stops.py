"""The stop book: pending stop orders waiting for the last trade price to reach them."""

from bisect import bisect_left, bisect_right, insort
from typing import Any

from engine.constants import MAX_PRICE


class StopOrder:
    """A pending stop_loss or stop_limit order, with everything needed to trigger it later."""

    __slots__ = (
        "order_id", "user_id", "side", "is_buy", "order_type", "quantity", "stop_price",
        "price", "time_in_force", "self_trade_prevention", "notional_cap", "arrival",
    )

    def __init__(
        self, order_id: Any, user_id: Any, side: str, is_buy: bool, order_type: str,
        quantity: int, stop_price: int, price: int | None, time_in_force: str,
        self_trade_prevention: str, notional_cap: int | None, arrival: int,
    ) -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.side = side
        self.is_buy = is_buy
        self.order_type = order_type
        self.quantity = quantity
        self.stop_price = stop_price
        self.price = price
        self.time_in_force = time_in_force
        self.self_trade_prevention = self_trade_prevention
        self.notional_cap = notional_cap
        self.arrival = arrival  # rises with every stop accepted; earlier arrival triggers first

    def is_met_by(self, last_price: int) -> bool:
        """Whether the stop condition holds at this last trade price."""
        if self.is_buy:
            return last_price >= self.stop_price
        return last_price <= self.stop_price


class StopBook:
    """Pending stops grouped by stop price, each group in arrival order."""

    __slots__ = ("_buy_prices", "_sell_prices", "_buy_groups", "_sell_groups", "_count",
                 "lowest_buy", "highest_sell")

    def __init__(self) -> None:
        # Ascending stop prices: buy stops met are a prefix, sell stops met a suffix.
        self._buy_prices: list[int] = []
        self._sell_prices: list[int] = []
        self._buy_groups: dict[int, list[StopOrder]] = {}
        self._sell_groups: dict[int, list[StopOrder]] = {}
        self._count = 0
        # Kept for the book's one-comparison check after a trade: some stop is met exactly
        # when last >= lowest_buy or last <= highest_sell (prices are positive).
        self.lowest_buy = MAX_PRICE
        self.highest_sell = 0

    def __len__(self) -> int:
        return self._count

    def add(self, stop: StopOrder) -> None:
        """Add a stop behind every earlier stop."""
        prices, groups = self._side(stop.is_buy)
        group = groups.get(stop.stop_price)
        if group is None:
            groups[stop.stop_price] = [stop]
            insort(prices, stop.stop_price)
        else:
            group.append(stop)
        self._count += 1
        self._update_extremes()

    def remove(self, stop: StopOrder) -> None:
        """Remove a pending stop (cancelled or triggered)."""
        prices, groups = self._side(stop.is_buy)
        group = groups[stop.stop_price]
        group.remove(stop)
        if not group:
            del groups[stop.stop_price]
            del prices[bisect_left(prices, stop.stop_price)]
        self._count -= 1
        self._update_extremes()

    def pop_triggered(self, last_price: int | None) -> StopOrder | None:
        """Remove and return the earliest-arrived stop whose condition holds, if any."""
        if last_price is None or not self._count:
            return None
        earliest = None
        buy_prices = self._buy_prices
        # Within a group arrival order is kept, so only each group's head can be earliest.
        for index in range(bisect_right(buy_prices, last_price)):
            head = self._buy_groups[buy_prices[index]][0]
            if earliest is None or head.arrival < earliest.arrival:
                earliest = head
        sell_prices = self._sell_prices
        for index in range(bisect_left(sell_prices, last_price), len(sell_prices)):
            head = self._sell_groups[sell_prices[index]][0]
            if earliest is None or head.arrival < earliest.arrival:
                earliest = head
        if earliest is not None:
            self.remove(earliest)
        return earliest

    def in_arrival_order(self) -> list[StopOrder]:
        """All pending stops, earliest arrival first."""
        stops = [s for group in self._buy_groups.values() for s in group]
        stops += [s for group in self._sell_groups.values() for s in group]
        stops.sort(key=lambda stop: stop.arrival)
        return stops

    def _update_extremes(self) -> None:
        self.lowest_buy = self._buy_prices[0] if self._buy_prices else MAX_PRICE
        self.highest_sell = self._sell_prices[-1] if self._sell_prices else 0

    def _side(self, is_buy: bool) -> tuple[list[int], dict[int, list[StopOrder]]]:
        if is_buy:
            return self._buy_prices, self._buy_groups
        return self._sell_prices, self._sell_groups
