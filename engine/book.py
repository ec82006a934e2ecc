"""OrderBook: the public API of one token's book (submit, cancel, market data, snapshot)."""

from bisect import bisect_left, insort
from collections import deque

from engine.constants import MAX_PRICE, CancelReason, OrderType, RejectReason
from engine.marketdata import Depth, side_depth
from engine.matching import BUY, MARKET_FLOOR, SELL, MatchingCore
from engine.snapshot import BookSnapshot, PendingStop, RestingOrder, restore_into, take_snapshot
from engine.stops import StopOrder
from engine.validation import order_problem

LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
_PREVENTION = ("cancel_taker", "cancel_maker", "cancel_both")
_TIME_IN_FORCE = ("GTC", "IOC", "FOK")
_CANONICAL_TYPES = {order_type.value: order_type for order_type in OrderType}


class OrderBook(MatchingCore):
    """One token's order book: price-time priority, trades at the maker's price.

    Every call returns the list of events it caused (see ``engine.events``). Nothing is
    raised for a bad order: it produces an ``OrderRejected`` event and changes nothing.
    Order and user ids may be any hashable values; user ids drive self-trade prevention.
    """

    __slots__ = ()

    def submit(self, order_id, user_id, side, order_type, quantity, price=None, stop_price=None,
               time_in_force="GTC", self_trade_prevention="none", notional_cap=None) -> list:
        """Process a new order; return its events (accepted, trades, cancels, stop triggers).

        ``price`` is the limit price (limit, stop_limit), ``stop_price`` the trigger (stops),
        ``notional_cap`` the most a market or stop_loss buy may spend (sum of price * qty).
        ``time_in_force`` is ignored for market and stop_loss orders.
        """
        # Fast path for a valid limit order, inlined because it is most of the traffic;
        # anything else (or anything odd) takes the checked path, which gives the same events.
        if (order_type == "limit" and type(quantity) is int
                and quantity > 0 and type(price) is int and 0 < price < MAX_PRICE
                and stop_price is None and notional_cap is None
                and (time_in_force == "GTC" or time_in_force in _TIME_IN_FORCE)
                and (self_trade_prevention == "none" or self_trade_prevention in _PREVENTION)
                and order_id not in self._live):
            if side == "buy":
                is_buy = True
                side = BUY
                own = self._bids
                opposite = self._asks
                rank = price
            elif side == "sell":
                is_buy = False
                side = SELL
                own = self._asks
                opposite = self._bids
                rank = -price
            else:
                return self._reject(order_id, RejectReason.INVALID_SIDE)
            seq = self._seq = self._seq + 1
            events: list[tuple] = [("accepted", seq, order_id, user_id, side, LIMIT, price,
                                    quantity, None, time_in_force)]
            if time_in_force != "GTC":
                self._execute_limit(events, order_id, user_id, is_buy, price, quantity,
                                    time_in_force, self_trade_prevention)
                if self._stops._count and self._stops_met():
                    self._trigger_stops(events)
                return events
            opposite_ranks = opposite.ranks
            # The opposite side's best rank is the negated rank of the best price we accept.
            crosses = opposite_ranks and opposite_ranks[-1] >= -rank
            if crosses:
                quantity = self._take(events, opposite, order_id, user_id, is_buy, price,
                                      -rank, quantity, self_trade_prevention, None)
            if quantity:  # rest what is left
                order = [quantity, order_id, user_id, price, side]
                levels = own.levels
                level = levels.get(rank)
                if level is None:
                    levels[rank] = [quantity, 0, deque((order,))]
                    ranks = own.ranks
                    if not ranks or rank > ranks[-1]:
                        ranks.append(rank)
                    else:
                        insort(ranks, rank)
                else:
                    level[0] += quantity
                    level[2].append(order)
                self._live[order_id] = order
            if crosses and self._stops._count and self._stops_met():
                self._trigger_stops(events)
            return events
        if (order_type == "market" and (side == "buy" or side == "sell")
                and type(quantity) is int and quantity > 0
                and price is None and stop_price is None
                and (time_in_force == "GTC" or time_in_force in _TIME_IN_FORCE)
                and (self_trade_prevention == "none" or self_trade_prevention in _PREVENTION)
                and (notional_cap is None or (side == "buy" and type(notional_cap) is int
                                              and notional_cap > 0))
                and order_id not in self._live):
            is_buy = side == "buy"
            seq = self._seq = self._seq + 1
            events = [(
                "accepted", seq, order_id, user_id, BUY if is_buy else SELL, MARKET, None,
                quantity, None, "IOC")]
            remaining = self._take(events, self._asks if is_buy else self._bids, order_id,
                                   user_id, is_buy, None, MARKET_FLOOR, quantity,
                                   self_trade_prevention, notional_cap)
            if remaining:
                self._cancel_taker(events, order_id, user_id, is_buy, None, remaining,
                                   CancelReason.MARKET_UNFILLED)
            if self._stops._count and self._stops_met():
                self._trigger_stops(events)
            return events
        return self._submit_checked(order_id, user_id, side, order_type, quantity, price,
                                    stop_price, time_in_force, self_trade_prevention,
                                    notional_cap)

    def cancel(self, order_id) -> list:
        """Cancel a resting order or pending stop; unknown or finished ids give OrderRejected."""
        order = self._live.pop(order_id, None)
        if order is None:
            return self._reject(order_id, RejectReason.ORDER_NOT_FOUND)
        seq = self._seq = self._seq + 1
        if type(order) is not list:
            self._stops.remove(order)
            return [(
                "cancelled", seq, order_id, order.user_id, order.side, order.price,
                order.quantity, CancelReason.USER)]
        remaining = order[0]
        order[0] = 0  # marks it dead; it leaves its queue lazily
        price = order[3]
        side = order[4]
        if side is BUY:
            own = self._bids
            rank = price
        else:
            own = self._asks
            rank = -price
        level = own.levels[rank]
        level_quantity = level[0] - remaining
        if not level_quantity:  # that was its last live order
            del own.levels[rank]
            ranks = own.ranks
            if ranks[-1] == rank:
                ranks.pop()
            else:
                del ranks[bisect_left(ranks, rank)]
        else:
            level[0] = level_quantity
            queue = level[2]
            if queue[0] is order:
                queue.popleft()
                while not queue[0][0]:
                    queue.popleft()
                    level[1] -= 1
            else:
                level[1] += 1
                # Bound the dead entries so memory follows live orders, not orders processed.
                if level[1] > 16 and 2 * level[1] > len(queue):
                    level[2] = deque(entry for entry in queue if entry[0])
                    level[1] = 0
        return [("cancelled", seq, order_id, order[2], side, price, remaining, CancelReason.USER)]

    @property
    def last_price(self) -> int | None:
        """Price of the last trade, None before the first."""
        return self._last_price

    @property
    def sequence(self) -> int:
        """Seq of the last event emitted (0 for a new book)."""
        return self._seq

    def best_bid(self) -> int | None:
        """Highest resting buy price, or None."""
        ranks = self._bids.ranks
        return ranks[-1] if ranks else None

    def best_ask(self) -> int | None:
        """Lowest resting sell price, or None."""
        ranks = self._asks.ranks
        return -ranks[-1] if ranks else None

    def depth(self, max_levels: int | None = 10) -> Depth:
        """Aggregated levels of both sides, best first, at most max_levels each (None: all)."""
        return Depth(side_depth(self._bids, max_levels), side_depth(self._asks, max_levels))

    def open_order(self, order_id) -> RestingOrder | PendingStop | None:
        """The resting order or pending stop with this id, or None if it is not open."""
        order = self._live.get(order_id)
        if order is None:
            return None
        if type(order) is list:
            return RestingOrder(order[1], order[2], order[4], order[3], order[0])
        return PendingStop(order.order_id, order.user_id, order.side, order.order_type,
                           order.quantity, order.stop_price, order.price, order.time_in_force,
                           order.self_trade_prevention, order.notional_cap)

    def open_order_count(self) -> tuple[int, int]:
        """Number of resting orders and of pending stops."""
        return len(self._live) - len(self._stops), len(self._stops)

    def snapshot(self) -> BookSnapshot:
        """Everything needed to rebuild this book exactly (see BookSnapshot)."""
        return take_snapshot(self)

    @classmethod
    def restore(cls, snapshot: BookSnapshot) -> "OrderBook":
        """A new book in the snapshot's state; raises BookStateError if it is inconsistent."""
        book = cls()
        restore_into(book, snapshot)
        return book

    def _submit_checked(self, order_id, user_id, side, order_type, quantity, price,
                        stop_price, time_in_force, prevention, notional_cap) -> list:
        """Any order, fully validated; run it (limit, market) or park it (stops)."""
        reason = order_problem(side, order_type, quantity, price, stop_price, time_in_force,
                               prevention, notional_cap)
        if reason is None and order_id in self._live:
            reason = RejectReason.DUPLICATE_ORDER_ID
        if reason is not None:
            return self._reject(order_id, reason)
        is_buy = side == BUY
        order_type = _CANONICAL_TYPES[order_type]
        if order_type == MARKET or order_type == OrderType.STOP_LOSS:
            time_in_force = "IOC"  # ignored for these; IOC is what they do in effect
        seq = self._seq = self._seq + 1
        events = [(
            "accepted", seq, order_id, user_id, BUY if is_buy else SELL, order_type,
            price, quantity, stop_price, time_in_force)]
        if order_type == LIMIT:
            self._execute_limit(events, order_id, user_id, is_buy, price, quantity,
                                time_in_force, prevention)
        elif order_type == MARKET:
            self._execute_market(events, order_id, user_id, is_buy, quantity, prevention,
                                 notional_cap)
        else:
            stop = StopOrder(order_id, user_id, BUY if is_buy else SELL, is_buy, order_type,
                             quantity, stop_price, price, time_in_force, prevention,
                             notional_cap, self._stop_arrivals)
            self._stop_arrivals += 1
            self._live[order_id] = stop
            self._stops.add(stop)
        if self._stops_met():
            self._trigger_stops(events)
        return events
