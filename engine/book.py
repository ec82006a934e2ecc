"""OrderBook: the public API of one token's book (submit, cancel, market data, snapshot)."""

from typing import Any, Final

from engine.constants import MAX_PRICE, CancelReason, OrderType, RejectReason
from engine.marketdata import Depth, side_depth, side_levels
from engine.matching import BUY, COMPACT_AFTER, MARKET_UNFILLED, SELL, MatchingCore
from engine.snapshot import BookSnapshot, PendingStop, RestingOrder, restore_into, take_snapshot
from engine.stops import StopOrder
from engine.validation import order_problem

LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
STOP_LOSS: Final = OrderType.STOP_LOSS
USER: Final = CancelReason.USER
INVALID_SIDE: Final = RejectReason.INVALID_SIDE
ORDER_NOT_FOUND: Final = RejectReason.ORDER_NOT_FOUND
INVALID_QUANTITY: Final = RejectReason.INVALID_QUANTITY
DUPLICATE_ORDER_ID: Final = RejectReason.DUPLICATE_ORDER_ID
HIGHEST_PRICE: Final = MAX_PRICE - 1  # fits a machine word, unlike MAX_PRICE (for mypyc)
_CANONICAL_TYPES: Final = {order_type.value: order_type for order_type in OrderType}


class OrderBook(MatchingCore):
    """One token's order book: price-time priority, trades at the maker's price.

    Every call returns the list of events it caused (see ``engine.events``). Nothing is
    raised for a bad order: it produces an ``OrderRejected`` event and changes nothing.
    Order and user ids may be any hashable values; user ids drive self-trade prevention.
    """

    __slots__ = ()

    def submit(self, order_id: Any, user_id: Any, side: Any, order_type: Any, quantity: Any,
               price: Any = None, stop_price: Any = None, time_in_force: Any = "GTC",
               self_trade_prevention: Any = "none", notional_cap: Any = None) -> list[tuple]:
        """Process a new order; return its events (accepted, trades, cancels, stop triggers).

        ``price`` is the limit price (limit, stop_limit), ``stop_price`` the trigger (stops),
        ``notional_cap`` the most a market or stop_loss buy may spend (sum of price * qty).
        ``time_in_force`` is ignored for market and stop_loss orders.
        """
        # Fast paths for valid limit orders and market orders without a cap, inlined because
        # they are most of the traffic; anything else (or anything odd) takes the checked
        # path, which gives the same events.
        events: list[tuple]
        if order_type == "limit":
            if (type(quantity) is int and quantity > 0 and type(price) is int
                    and 0 < price <= HIGHEST_PRICE and stop_price is None and notional_cap is None
                    and time_in_force == "GTC"
                    and self_trade_prevention in ("none", "cancel_taker", "cancel_maker",
                                                  "cancel_both")
                    and order_id not in self._live):
                rank: Any  # the int object itself in compiled code (see BookSide)
                if side == "buy":
                    side = BUY
                    own = self._bids
                    opposite = self._asks
                    rank = price
                elif side == "sell":
                    side = SELL
                    own = self._asks
                    opposite = self._bids
                    rank = -price
                else:
                    return self._reject(order_id, INVALID_SIDE)
                seq = self._seq = self._seq + 1
                events = [("accepted", seq, order_id, user_id, side, LIMIT, price, quantity,
                           None, "GTC")]
                opposite_ranks = opposite.ranks
                # The opposite side's best rank is the negated rank of the best price we take.
                if opposite_ranks and opposite_ranks[-1] >= -rank:
                    quantity = self._take(events, opposite, order_id, user_id, side, -rank,
                                          quantity, self_trade_prevention, price)
                    if quantity:
                        self._rest(own, rank, [quantity, order_id, user_id, price, side, None])
                    if self._stops._count and self._stops_met():
                        self._trigger_stops(events)
                    return events
                # Rest it: the inlined body of _rest.
                order = [quantity, order_id, user_id, price, side, None]
                level = own.levels.get(rank)
                if level is None:
                    own.add_level(rank, order)
                else:
                    level[0] += quantity
                    level[2].append(order)
                    order[5] = level
                self._live[order_id] = order
                return events
            if (time_in_force in ("IOC", "FOK") and type(quantity) is int and quantity > 0
                    and type(price) is int and 0 < price <= HIGHEST_PRICE and stop_price is None
                    and notional_cap is None
                    and self_trade_prevention in ("none", "cancel_taker", "cancel_maker",
                                                  "cancel_both")
                    and (side == "buy" or side == "sell") and order_id not in self._live):
                is_buy = side == "buy"
                seq = self._seq = self._seq + 1
                events = [("accepted", seq, order_id, user_id, BUY if is_buy else SELL, LIMIT,
                           price, quantity, None, time_in_force)]
                self._execute_limit(events, order_id, user_id, is_buy, price, quantity,
                                    time_in_force, self_trade_prevention)
                if self._stops._count and self._stops_met():
                    self._trigger_stops(events)
                return events
        elif (order_type == "market" and type(quantity) is int and quantity > 0
                and price is None and stop_price is None and notional_cap is None
                and time_in_force in ("GTC", "IOC", "FOK")
                and self_trade_prevention in ("none", "cancel_taker", "cancel_maker",
                                              "cancel_both")
                and order_id not in self._live):
            if side == "buy":
                side = BUY
                opposite = self._asks
            elif side == "sell":
                side = SELL
                opposite = self._bids
            else:
                return self._reject(order_id, INVALID_SIDE)
            seq = self._seq = self._seq + 1
            events = [("accepted", seq, order_id, user_id, side, MARKET, None, quantity, None,
                       "IOC")]
            if opposite.ranks:
                quantity = self._take(events, opposite, order_id, user_id, side, None, quantity,
                                      self_trade_prevention, None)
                if quantity:
                    seq = self._seq = self._seq + 1
                    events.append(("cancelled", seq, order_id, user_id, side, None, quantity,
                                   MARKET_UNFILLED))
                if self._stops._count and self._stops_met():
                    self._trigger_stops(events)
            else:
                seq = self._seq = seq + 1
                events.append(("cancelled", seq, order_id, user_id, side, None, quantity,
                               MARKET_UNFILLED))
            return events
        return self._submit_checked(order_id, user_id, side, order_type, quantity, price,
                                    stop_price, time_in_force, self_trade_prevention,
                                    notional_cap)

    def cancel(self, order_id: Any, reason: Any = USER) -> list[tuple]:
        """Cancel a resting order or pending stop; unknown or finished ids give OrderRejected.
        ``reason`` is the CancelReason its event carries (the caller's: user, expired, ...)."""
        order = self._live.pop(order_id, None)
        if order is None:
            return self._reject(order_id, ORDER_NOT_FOUND)
        seq = self._seq = self._seq + 1
        if type(order) is not list:
            self._stops.remove(order)
            return [("cancelled", seq, order_id, order.user_id, order.side, order.price,
                     order.quantity, reason)]
        remaining: int = order[0]
        order[0] = 0  # marks it dead; it leaves its level lazily
        level: list[Any] = order[5]
        total: int = level[0] - remaining
        if total:
            level[0] = total
            dead: int = level[1] + 1
            orders: list[Any] = level[2]
            # Bound the dead entries so memory follows live orders, not orders processed.
            if dead > COMPACT_AFTER and dead + dead > len(orders):
                level[2] = [entry for entry in orders if entry[0]]
                level[1] = 0
            else:
                level[1] = dead
        elif order[4] is BUY:  # that was its level's last live order
            self._bids.remove_level(order[3], level)
        else:
            self._asks.remove_level(-order[3], level)
        return [("cancelled", seq, order_id, order[2], order[4], order[3], remaining, reason)]

    def reduce(self, order_id: Any, remaining: Any) -> list[tuple]:
        """Lower a resting order's open quantity to ``remaining`` (above zero, below what it has
        now) in place: it keeps its time priority. Pending stops, unknown ids and other
        quantities give OrderRejected."""
        order = self._live.get(order_id)
        if order is None or type(order) is not list:
            return self._reject(order_id, ORDER_NOT_FOUND)
        if type(remaining) is not int or not 0 < remaining < order[0]:
            return self._reject(order_id, INVALID_QUANTITY)
        level: list[Any] = order[5]
        level[0] -= order[0] - remaining
        order[0] = remaining
        seq = self._seq = self._seq + 1
        return [("reduced", seq, order_id, order[2], order[4], order[3], remaining)]

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

    def levels(self, max_levels: int) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """(price, total quantity) of the best max_levels levels of bids and of asks."""
        return side_levels(self._bids, max_levels), side_levels(self._asks, max_levels)

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

    def _submit_checked(self, order_id: Any, user_id: Any, side: Any, order_type: Any,
                        quantity: Any, price: Any, stop_price: Any, time_in_force: Any,
                        prevention: Any, notional_cap: Any) -> list[tuple]:
        """Any order, fully validated; run it (limit, market) or park it (stops)."""
        reason = order_problem(side, order_type, quantity, price, stop_price, time_in_force,
                               prevention, notional_cap)
        if reason is None and order_id in self._live:
            reason = DUPLICATE_ORDER_ID
        if reason is not None:
            return self._reject(order_id, reason)
        is_buy = side == BUY
        order_type = _CANONICAL_TYPES[order_type]
        if order_type in (MARKET, STOP_LOSS):
            time_in_force = "IOC"  # ignored for these; IOC is what they do in effect
        seq = self._seq = self._seq + 1
        events: list[tuple] = [(
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
