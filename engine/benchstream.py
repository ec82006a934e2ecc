"""Seeded command streams for the benchmark.

A command is either ``(None, order_id)`` for a cancel or the positional arguments of
``OrderBook.submit``. Mixes:

- standard: 60% limit orders (GTC) around a random-walking mid, 25% cancels of earlier
  orders, 15% market orders;
- full: 55% limit orders (80% GTC, 10% IOC, 10% FOK), 25% cancels, 15% market orders,
  5% stop orders (half stop_loss, half stop_limit).

Every order carries self-trade prevention (cancel_taker) and one of 1,000 users, so the
self-trade check runs on every fill. Each cancel targets an order that is open at that point:
the generator runs its own book alongside (untimed) to know which orders are open, and picks
one uniformly at random.
"""

import random

from engine.book import OrderBook

USERS = 1_000
START_MID = 10_000
PREVENTION = "cancel_taker"


def generate_commands(n: int, seed: int, mix: str = "standard") -> list[tuple]:
    """Return n commands of the given mix, the same for the same seed."""
    rng = random.Random(seed)
    random_ = rng.random
    randint = rng.randint
    full = mix == "full"
    limit_share, cancel_share, market_share = (0.55, 0.80, 0.95) if full else (0.60, 0.85, 1.0)
    market_max = 40 if full else 150  # keeps both books a few hundred to thousands deep
    open_orders = _OpenOrders()
    shadow = OrderBook()
    commands: list[tuple] = []
    mid = START_MID
    for order_id in range(1, n + 1):
        if random_() < 0.05:  # the mid walks one tick at a time
            mid = max(100, mid + (1 if random_() < 0.5 else -1))
        draw = random_()
        is_buy = random_() < 0.5
        side = "buy" if is_buy else "sell"
        user_id = randint(1, USERS)
        if draw < limit_share:
            command = _limit(order_id, user_id, is_buy, side, mid, full, rng)
        elif draw < cancel_share and open_orders:
            command = (None, open_orders.pick(randint))
        elif draw < market_share or draw < cancel_share:
            command = (order_id, user_id, side, "market", randint(1, market_max), None, None,
                       "GTC", PREVENTION, None)
        else:
            command = _stop(order_id, user_id, is_buy, side, mid, rng)
        commands.append(command)
        open_orders.update(shadow, apply_command(shadow, command))
    return commands


def apply_command(book: OrderBook, command: tuple) -> list:
    """Run one stream command on a book; return its events."""
    if command[0] is None:
        return book.cancel(command[1])
    return book.submit(*command)


class _OpenOrders:
    """Ids open in the shadow book, in a list for uniform random picks."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.slots: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def pick(self, randint) -> int:
        return self.ids[randint(0, len(self.ids) - 1)]

    def update(self, shadow: OrderBook, events: list) -> None:
        for event in events:
            if event[0] == "trade":
                self._refresh(shadow, event[2])  # taker
                self._refresh(shadow, event[3])  # maker
            elif event[0] != "rejected":
                self._refresh(shadow, event[2])  # order_id

    def _refresh(self, shadow: OrderBook, order_id: int) -> None:
        is_open = shadow.open_order(order_id) is not None
        if is_open and order_id not in self.slots:
            self.slots[order_id] = len(self.ids)
            self.ids.append(order_id)
        elif not is_open and order_id in self.slots:
            slot = self.slots.pop(order_id)
            last = self.ids.pop()
            if last != order_id:
                self.ids[slot] = last
                self.slots[last] = slot


def _limit(order_id, user_id, is_buy, side, mid, full, rng) -> tuple:
    time_in_force = "GTC"
    if full:
        draw = rng.random()
        time_in_force = "IOC" if draw < 0.1 else "FOK" if draw < 0.2 else "GTC"
    # GTC: mostly passive, within 20 ticks of the mid; one in ten crosses by up to 5 ticks.
    # IOC and FOK are meant to trade, so they are priced up to 5 ticks through the mid.
    crossing = time_in_force != "GTC" or rng.random() < 0.1
    offset = -rng.randint(0, 5) if crossing else rng.randint(1, 20)
    price = mid - offset if is_buy else mid + offset
    return (order_id, user_id, side, "limit", rng.randint(1, 100), price, None, time_in_force,
            PREVENTION, None)


def _stop(order_id, user_id, is_buy, side, mid, rng) -> tuple:
    distance = rng.randint(1, 10)
    stop_price = mid + distance if is_buy else mid - distance
    if rng.random() < 0.5:
        return (order_id, user_id, side, "stop_loss", rng.randint(1, 100), None, stop_price,
                "GTC", PREVENTION, None)
    price = stop_price + 2 if is_buy else stop_price - 2
    return (order_id, user_id, side, "stop_limit", rng.randint(1, 100), price, stop_price,
            "GTC", PREVENTION, None)
