"""A deliberately simple reference matcher: lists, linear scans, a deep copy for fill-or-kill.

It implements the rules of issue 5 in the most direct way, with no care for speed, so that
property tests can compare the real engine against it event by event. It only handles valid
orders (plus duplicate ids and cancels of orders that are not open).
"""

import copy
from dataclasses import dataclass


@dataclass(eq=False)  # identity: list.remove must remove this very order
class Order:
    order_id: object
    user_id: object
    side: str
    order_type: str
    quantity: int
    price: int | None
    stop_price: int | None
    time_in_force: str
    prevention: str
    notional_cap: int | None
    remaining: int = 0


class ReferenceBook:
    def __init__(self):
        self.resting: list[Order] = []  # in the order they entered the book
        self.stops: list[Order] = []  # in arrival order
        self.last_price: int | None = None
        self.seq = 0
        self.events: list[tuple] = []

    def emit(self, *fields):
        self.seq += 1
        self.events.append((fields[0], self.seq, *fields[1:]))

    def submit(self, order_id, user_id, side, order_type, quantity, price=None, stop_price=None,
               time_in_force="GTC", prevention="none", notional_cap=None):
        self.events = []
        if any(o.order_id == order_id for o in self.resting + self.stops):
            self.emit("rejected", order_id, "duplicate_order_id")
            return self.events
        if order_type in ("market", "stop_loss"):
            time_in_force = "IOC"
        order = Order(order_id, user_id, side, order_type, quantity, price, stop_price,
                      time_in_force, prevention, notional_cap, quantity)
        self.emit("accepted", order_id, user_id, side, order_type, price, quantity, stop_price,
                  time_in_force)
        if order_type.startswith("stop"):
            self.stops.append(order)
        else:
            self.execute(order)
        self.trigger_stops()
        return self.events

    def cancel(self, order_id):
        self.events = []
        for orders in (self.resting, self.stops):
            for order in orders:
                if order.order_id == order_id:
                    orders.remove(order)
                    self.emit("cancelled", order_id, order.user_id, order.side, order.price,
                              order.remaining, "user")
                    return self.events
        self.emit("rejected", order_id, "order_not_found")
        return self.events

    def trigger_stops(self):
        while self.last_price is not None:
            met = [s for s in self.stops if (s.side == "buy" and self.last_price >= s.stop_price)
                   or (s.side == "sell" and self.last_price <= s.stop_price)]
            if not met:
                return
            stop = met[0]
            self.stops.remove(stop)
            self.emit("stop_triggered", stop.order_id, stop.stop_price, self.last_price)
            stop.order_type = "market" if stop.order_type == "stop_loss" else "limit"
            self.execute(stop)

    def execute(self, order):
        if order.time_in_force == "FOK" and not self.would_fill_completely(order):
            self.cancel_taker(order, "fok_unfilled")
            return
        self.match(order)
        if not order.remaining:
            return
        if order.order_type == "market":
            self.cancel_taker(order, "market_unfilled")
        elif order.time_in_force == "IOC":
            self.cancel_taker(order, "ioc_remainder")
        else:
            self.resting.append(order)

    def would_fill_completely(self, order):
        trial = copy.deepcopy(self)
        trial_order = copy.deepcopy(order)
        trial.match(trial_order)
        return not any(e[0] == "cancelled" and e[2] == order.order_id for e in trial.events) \
            and trial_order.remaining == 0

    def cancel_taker(self, order, reason):
        self.emit("cancelled", order.order_id, order.user_id, order.side, order.price,
                  order.remaining, reason)
        order.remaining = 0

    def crosses(self, taker, maker):
        if maker.side == taker.side:
            return False
        if taker.price is None or taker.order_type == "market":
            return True
        return maker.price <= taker.price if taker.side == "buy" else maker.price >= taker.price

    def match(self, taker):
        budget = taker.notional_cap if taker.order_type == "market" else None
        while taker.remaining:
            candidates = [o for o in self.resting if self.crosses(taker, o)]
            if not candidates:
                return
            # min() keeps the first of equal prices, and self.resting is in time order.
            maker = min(candidates, key=lambda o: o.price if taker.side == "buy" else -o.price)
            if taker.prevention != "none" and maker.user_id == taker.user_id:
                if taker.prevention in ("cancel_maker", "cancel_both"):
                    self.resting.remove(maker)
                    self.emit("cancelled", maker.order_id, maker.user_id, maker.side,
                              maker.price, maker.remaining, "self_trade")
                if taker.prevention in ("cancel_taker", "cancel_both"):
                    self.cancel_taker(taker, "self_trade")
                    return
                continue
            fill = min(maker.remaining, taker.remaining)
            capped = False
            if budget is not None and budget // maker.price < fill:
                fill, capped = budget // maker.price, True
                if not fill:
                    self.cancel_taker(taker, "notional_cap")
                    return
            if budget is not None:
                budget -= fill * maker.price
            maker.remaining -= fill
            taker.remaining -= fill
            if maker.user_id != taker.user_id:  # a self-trade is no market price
                self.last_price = maker.price
            self.emit("trade", taker.order_id, maker.order_id, taker.user_id, maker.user_id,
                      taker.side, maker.price, fill, taker.remaining, maker.remaining)
            if not maker.remaining:
                self.resting.remove(maker)
            if capped:
                self.cancel_taker(taker, "notional_cap")
                return

    def depth(self):
        bids, asks = {}, {}
        for order in self.resting:
            levels = bids if order.side == "buy" else asks
            quantity, count = levels.get(order.price, (0, 0))
            levels[order.price] = (quantity + order.remaining, count + 1)
        return (
            tuple((p, *bids[p]) for p in sorted(bids, reverse=True)),
            tuple((p, *asks[p]) for p in sorted(asks)),
        )
