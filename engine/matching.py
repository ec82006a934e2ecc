"""The matching core: price levels, the taking loop, resting and fill-or-kill checks.

Hot paths here trade a little readability for speed, deliberately:

- A resting order is a 6-item list ``[remaining, order_id, user_id, price, side, level]``
  (cheaper to create and index than an object); ``level`` is the price level it rests in, so
  a cancel reaches it without a lookup. ``remaining == 0`` marks an order that is finished; a
  cancelled order is only marked and dropped from the id index, and leaves its level lazily
  (when a taker reaches it, or when the level is compacted), so cancel is O(1).
- A level is a list ``[total_quantity, dead_count, orders]``, ``orders`` a plain list in time
  priority. Its total is 0 exactly when no live order is left, and then the level is removed
  at once (its list is cleared, which also breaks the order -> level -> list reference
  cycle), so the best level always holds a live order. A taker walks the list with an index
  and cuts the consumed prefix off once, when it leaves the level. ``dead_count`` counts
  cancelled entries still in the list; when they pass half of it the list is rebuilt, so
  memory follows live orders.
- Each side keys its levels by *rank*, where a higher rank is a better price (bids:
  ``rank = price``, asks: ``rank = -price``), so one loop serves both sides. The ranks of a
  side are a plain ascending list with the best level last: new best levels are appended and
  exhausted best levels popped in O(1); other inserts and deletes are a C-level memmove.
- The taking loop keeps the level total in a local (written back once per level) and has a
  separate branch for the fill that exhausts the maker (the common case for market orders).

The annotations are there for mypyc (see README): plain lists stay fastest under CPython, and
typed locals let the compiled build use native integers and direct list access.
"""

from bisect import bisect_left, insort
from collections.abc import Callable
from typing import Any, Final

from engine.constants import CancelReason, OrderType, Side, TimeInForce
from engine.stops import StopBook, StopOrder

BUY: Final = Side.BUY
SELL: Final = Side.SELL
GTC: Final = TimeInForce.GTC
FOK: Final = TimeInForce.FOK
DATED: Final = (TimeInForce.GTD, TimeInForce.DAY)  # rest like GTC; the caller expires them
STP_NONE: Final = "none"
STP_CANCELS_MAKER: Final = ("cancel_maker", "cancel_both")
STP_CANCELS_TAKER: Final = ("cancel_taker", "cancel_both")
STOP_LOSS: Final = OrderType.STOP_LOSS
SELF_TRADE: Final = CancelReason.SELF_TRADE
NOTIONAL_CAP: Final = CancelReason.NOTIONAL_CAP
FOK_UNFILLED: Final = CancelReason.FOK_UNFILLED
IOC_REMAINDER: Final = CancelReason.IOC_REMAINDER
MARKET_UNFILLED: Final = CancelReason.MARKET_UNFILLED
COMPACT_AFTER: Final = 16  # dead entries a level may hold before it is considered for rebuild


class BookSide:
    """Resting orders of one side of the book."""

    __slots__ = ("levels", "ranks", "sign")

    def __init__(self, sign: int) -> None:
        # Ranks are ints; typed Any so that compiled code passes the int objects around as
        # they are instead of unboxing them and allocating new ones for every dict lookup.
        self.levels: dict[Any, list[Any]] = {}  # rank -> [total_quantity, dead_count, orders]
        self.ranks: list[Any] = []  # ascending; the best level is last
        self.sign = sign  # price = rank * sign

    def add_level(self, rank: Any, order: list[Any]) -> None:
        """Open a level holding one order."""
        level = [order[0], 0, [order]]
        order[5] = level
        self.levels[rank] = level
        ranks = self.ranks
        if not ranks or rank > ranks[-1]:
            ranks.append(rank)
        else:
            insort(ranks, rank)

    def remove_level(self, rank: Any, level: list[Any]) -> None:
        """Drop a level whose last live order has gone."""
        del self.levels[rank]
        ranks = self.ranks
        if ranks[-1] == rank:
            ranks.pop()
        else:
            del ranks[bisect_left(ranks, rank)]
        level[2].clear()  # dead entries point back at the level


class MatchingCore:
    """State of one book and the operations that change it; OrderBook adds the public API."""

    __slots__ = ("_bids", "_asks", "_live", "_stops", "_seq", "_last_price", "_stop_arrivals",
                 "stop_gate")

    def __init__(self) -> None:
        # Asked before a triggered stop runs: stop_gate(order_id, user_id, price, events so far)
        # returns None to run it, or a reason to cancel it instead (its owner may no longer
        # trade, the market is halted); set by the caller around a submit, None runs every stop.
        self.stop_gate: Callable[[Any, Any, int | None, list[tuple]], str | None] | None = None
        self._bids = BookSide(1)
        self._asks = BookSide(-1)
        self._live: dict[Any, Any] = {}  # order_id -> resting order list or pending StopOrder
        self._stops = StopBook()
        self._seq = 0  # sequence number of the last event emitted
        self._last_price: int | None = None
        self._stop_arrivals = 0

    def _take(self, events: list[tuple], opposite: BookSide, order_id: Any, user_id: Any,
              side: str, threshold: Any, remaining: int, prevention: str,
              taker_price: int | None) -> int:
        """Match against the opposite side while its best rank >= threshold; return remainder.

        ``threshold`` None means any price (a market order). The caller has checked that the
        best opposite level crosses. A remainder stopped by
        self-trade prevention is cancelled here (and 0 is returned); any other remainder is
        left to the caller.
        """
        levels = opposite.levels
        ranks = opposite.ranks
        sign = opposite.sign
        live = self._live
        preventing = prevention != STP_NONE
        seq = self._seq
        rank = ranks[-1]
        while True:
            level = levels[rank]
            orders: list[Any] = level[2]
            total: int = level[0]
            price: Any = rank * sign  # one int object for all the level's events
            head = 0  # orders[:head] are consumed
            while True:
                maker: list[Any] = orders[head]
                available: int = maker[0]
                if not available:  # cancelled earlier, dropped lazily
                    head += 1
                    level[1] -= 1
                    continue
                if maker[2] == user_id and preventing:
                    if prevention in STP_CANCELS_MAKER:
                        maker[0] = 0
                        head += 1
                        del live[maker[1]]
                        total -= available
                        seq += 1
                        events.append(("cancelled", seq, maker[1], user_id, maker[4], price,
                                       available, SELF_TRADE))
                    if prevention in STP_CANCELS_TAKER:
                        seq += 1
                        events.append(("cancelled", seq, order_id, user_id, side, taker_price,
                                       remaining, SELF_TRADE))
                        remaining = 0
                        break
                    if not total:
                        break
                    continue
                seq += 1
                if maker[2] != user_id:  # a self-trade (STP none) is no market price
                    self._last_price = price
                if available > remaining:  # the taker is done, the maker stays
                    available -= remaining
                    maker[0] = available
                    total -= remaining
                    events.append(("trade", seq, order_id, maker[1], user_id, maker[2], side,
                                   price, remaining, 0, available))
                    remaining = 0
                    break
                remaining -= available
                total -= available
                maker[0] = 0
                head += 1
                del live[maker[1]]
                events.append(("trade", seq, order_id, maker[1], user_id, maker[2], side, price,
                               available, remaining, 0))
                if not remaining or not total:
                    break
            if total:
                level[0] = total
                if head:
                    del orders[:head]
                break
            del levels[rank]
            ranks.pop()
            orders.clear()  # only finished entries are left; they point back at the level
            if not remaining or not ranks:
                break
            rank = ranks[-1]
            if threshold is not None and rank < threshold:
                break
        self._seq = seq
        return remaining

    def _take_capped(self, events: list[tuple], opposite: BookSide, order_id: Any,
                     user_id: Any, side: str, remaining: int, prevention: str,
                     budget: int) -> int:
        """_take for a market buy with a notional cap: it also stops when the money runs out.

        Any remainder stopped by self-trade prevention or the cap is cancelled here.
        """
        levels = opposite.levels
        ranks = opposite.ranks
        sign = opposite.sign
        live = self._live
        preventing = prevention != STP_NONE
        seq = self._seq
        stop_reason = None
        while ranks:
            rank = ranks[-1]
            level = levels[rank]
            orders: list[Any] = level[2]
            price = rank * sign
            head = 0
            while True:
                maker: list[Any] = orders[head]
                maker_remaining: int = maker[0]
                if not maker_remaining:
                    head += 1
                    level[1] -= 1
                    continue
                if preventing and maker[2] == user_id:
                    if prevention in STP_CANCELS_MAKER:
                        maker[0] = 0
                        head += 1
                        del live[maker[1]]
                        level[0] -= maker_remaining
                        seq += 1
                        events.append(("cancelled", seq, maker[1], user_id, maker[4], price,
                                       maker_remaining, SELF_TRADE))
                    if prevention in STP_CANCELS_TAKER:
                        stop_reason = SELF_TRADE
                        break
                    if not level[0]:
                        break
                    continue
                fill = maker_remaining if maker_remaining < remaining else remaining
                affordable = budget // price
                if affordable < fill:
                    fill = affordable
                    stop_reason = NOTIONAL_CAP
                    if not fill:
                        break
                budget -= fill * price
                remaining -= fill
                maker_remaining -= fill
                maker[0] = maker_remaining
                level[0] -= fill
                if not maker_remaining:
                    head += 1
                    del live[maker[1]]
                seq += 1
                events.append(("trade", seq, order_id, maker[1], user_id, maker[2], side, price,
                               fill, remaining, maker_remaining))
                if maker[2] != user_id:  # a self-trade (STP none) is no market price
                    self._last_price = price
                if not remaining or not level[0] or stop_reason:
                    break
            if not level[0]:
                del levels[rank]
                ranks.pop()
                orders.clear()
            elif head:
                del orders[:head]
            if not remaining or stop_reason:
                break
        if stop_reason and remaining:
            seq += 1
            events.append(("cancelled", seq, order_id, user_id, side, None, remaining,
                           stop_reason))
            remaining = 0
        self._seq = seq
        return remaining

    def _can_fill(self, opposite: BookSide, threshold: int, quantity: int, user_id: Any,
                  prevention: str) -> bool:
        """Whether a fill-or-kill order would fill completely, self-trade prevention included."""
        levels = opposite.levels
        ranks = opposite.ranks
        needed = quantity
        for index in range(len(ranks) - 1, -1, -1):  # best first
            rank = ranks[index]
            if rank < threshold:
                return False
            level = levels[rank]
            if prevention == STP_NONE:
                needed -= level[0]
            else:
                for maker in level[2]:
                    if not maker[0]:
                        continue
                    if maker[2] != user_id:
                        needed -= maker[0]
                        if needed <= 0:
                            return True
                    elif prevention in STP_CANCELS_TAKER:
                        return False
            if needed <= 0:
                return True
        return False

    def _execute_limit(self, events: list[tuple], order_id: Any, user_id: Any, is_buy: bool,
                       price: int, quantity: int, time_in_force: str, prevention: str) -> None:
        """Match a limit order, then rest or cancel what is left according to its TIF."""
        if is_buy:
            opposite, own, threshold, own_rank, side = self._asks, self._bids, -price, price, BUY
        else:
            opposite, own, threshold, own_rank, side = self._bids, self._asks, price, -price, SELL
        remaining = quantity
        ranks = opposite.ranks
        crosses = bool(ranks) and ranks[-1] >= threshold
        if time_in_force == FOK and not (
            crosses and self._can_fill(opposite, threshold, quantity, user_id, prevention)
        ):
            self._cancel_taker(events, order_id, user_id, side, price, quantity, FOK_UNFILLED)
            return
        if crosses:
            remaining = self._take(events, opposite, order_id, user_id, side, threshold,
                                   quantity, prevention, price)
        if not remaining:
            return
        if time_in_force == GTC or time_in_force in DATED:
            self._rest(own, own_rank, [remaining, order_id, user_id, price, side, None])
        else:
            self._cancel_taker(events, order_id, user_id, side, price, remaining,
                               IOC_REMAINDER)

    def _execute_market(self, events: list[tuple], order_id: Any, user_id: Any, is_buy: bool,
                        quantity: int, prevention: str, notional_cap: int | None) -> None:
        """Match a market order; it never rests, so any remainder is cancelled."""
        if is_buy:
            opposite, side = self._asks, BUY
        else:
            opposite, side = self._bids, SELL
        remaining = quantity
        if notional_cap is not None:
            remaining = self._take_capped(events, opposite, order_id, user_id, side, quantity,
                                          prevention, notional_cap)
        elif opposite.ranks:
            remaining = self._take(events, opposite, order_id, user_id, side, None, quantity,
                                   prevention, None)
        if remaining:
            self._cancel_taker(events, order_id, user_id, side, None, remaining,
                               MARKET_UNFILLED)

    def _cancel_taker(self, events: list[tuple], order_id: Any, user_id: Any, side: str,
                      price: int | None, remaining: int, reason: str) -> None:
        seq = self._seq = self._seq + 1
        events.append(("cancelled", seq, order_id, user_id, side, price, remaining, reason))

    def _stops_met(self) -> bool:
        """Whether some pending stop is met by the last trade price."""
        last = self._last_price
        stops = self._stops
        return last is not None and (last >= stops.lowest_buy or last <= stops.highest_sell)

    def _trigger_stops(self, events: list[tuple]) -> None:
        """Run every stop met by the last price, earliest arrival first, until none is met."""
        stops = self._stops
        while True:
            last = self._last_price
            stop: StopOrder | None = stops.pop_triggered(last)
            if stop is None or last is None:
                return
            del self._live[stop.order_id]
            seq = self._seq = self._seq + 1
            events.append(("stop_triggered", seq, stop.order_id, stop.stop_price, last))
            refusal = None if self.stop_gate is None else self.stop_gate(
                stop.order_id, stop.user_id, stop.price, events)
            if refusal is not None:
                self._cancel_taker(events, stop.order_id, stop.user_id, stop.side, stop.price,
                                   stop.quantity, refusal)
                continue
            if stop.order_type == STOP_LOSS:
                self._execute_market(events, stop.order_id, stop.user_id, stop.is_buy,
                                     stop.quantity, stop.self_trade_prevention,
                                     stop.notional_cap)
            else:
                assert stop.price is not None
                self._execute_limit(events, stop.order_id, stop.user_id, stop.is_buy,
                                    stop.price, stop.quantity, stop.time_in_force,
                                    stop.self_trade_prevention)

    def _reject(self, order_id: Any, reason: str) -> list[tuple]:
        seq = self._seq = self._seq + 1
        return [("rejected", seq, order_id, reason)]

    def _rest(self, own: BookSide, rank: Any, order: list[Any]) -> None:
        """Append an order record at the back of its price level, creating the level if new."""
        level = own.levels.get(rank)
        if level is None:
            own.add_level(rank, order)
        else:
            level[0] += order[0]
            level[2].append(order)
            order[5] = level
        self._live[order[1]] = order
