"""One group of order commands in one transaction (docs/architecture.md, "The order path").

Every check that can refuse a command runs before the command changes anything, so a refused
command leaves no trace and the rest of the group goes on. The books are the caller's (books.Books):
after the commit the caller applies the group to them, and if the transaction fails, restores them.
The commands are in commands.py; placing runs in place.py, amending in amend.py, cancelling here.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from alefctl.db.batches import RoundTrip
from alefctl.errors import AlefError, Conflict, InvalidInput, NotFound
from alefctl.workflows import investment_limits as investment
from alefctl.workflows import policy
from alefctl.workflows.compliance import ComplianceRules, UnwrittenHoldings
from alefctl.workflows.trading import frozen, funds
from alefctl.workflows.trading.amend import amend_order
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.client_ids import BY_CLIENT_ID, ClientOrderIds, lookup_params
from alefctl.workflows.trading.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    Outcome,
    PlaceOrder,
    parse_order_id,
)
from alefctl.workflows.trading.guards import Halt
from alefctl.workflows.trading.ledger import GroupLedger
from alefctl.workflows.trading.market import LOCK_MARKETS, Market, refuse_not_trading
from alefctl.workflows.trading.place import place_order
from alefctl.workflows.trading.state import LOCK_ORDERS, OrderState, load_orders, order_states
from engine.events import named


class OrderGroup:
    """Runs commands through the books; `flush` writes everything in the same transaction."""

    def __init__(self, conn: Connection, books: Books, limits: funds.NotionalLimits,
                 treasury_id: uuid.UUID, clock: Callable[[], datetime]):
        self.conn = conn
        self.books = books
        self.guards = books.guards
        self.limits = limits
        self.clock = clock
        self.ledger = GroupLedger(treasury_id)
        self.orders: dict[uuid.UUID, OrderState] = {}
        self.markets: dict[str, Market] = {}  # by symbol and by str(id)
        self.traders: dict[uuid.UUID, Any] = {}  # user rows as locked; balances as loaded
        self.free_tokens: dict[tuple[uuid.UUID, uuid.UUID], int] = {}  # as loaded
        self.invested: dict[uuid.UUID, Decimal] = {}  # 12-month investment, as loaded
        self.invested_changes: Counter[uuid.UUID] = Counter()  # this group's buys
        self.frozen_wallets: set[tuple[uuid.UUID, uuid.UUID]] = set()  # frozen whole, as loaded
        # open sells of frozen wallets per token, as loaded; the tokens whose ones were cancelled
        self.frozen_sells: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.frozen_swept: set[uuid.UUID] = set()
        self.client_ids = ClientOrderIds()
        self.events: list[tuple[Market, Any]] = []
        self.halts: list[tuple[Market, Halt]] = []  # circuit breakers tripped in this group
        self.compliance_rules: dict[uuid.UUID, ComplianceRules] = {}  # as loaded
        self.holdings = UnwrittenHoldings()  # what the rules count, changed by this group
        # Open orders gained (+1 placed) and lost (-1 filled or cancelled) per (investor, token)
        self.open_changes: Counter[tuple[uuid.UUID, uuid.UUID]] = Counter()

    def prepare(self, commands: list[Command]) -> None:
        """Lock the rows the group's commands will read, in one round trip for the whole group:
        tokens, traders, their wallets and the orders to cancel (commands run without it load
        them one by one)."""
        places = [c for c in commands if isinstance(c, PlaceOrder)]
        refs = sorted({c.request.token for c in places} - self.markets.keys())
        user_ids = sorted({c.actor.user_id for c in places} - self.traders.keys())
        order_ids = self._uncached_orders(
            {parse_order_id(c.order_id) for c in commands if isinstance(c, CancelOrder | AmendOrder)})
        client_ids = self.client_ids.unknown({(c.actor.user_id, c.request.client_order_id)
                                              for c in places
                                              if c.request.client_order_id is not None})
        trip = RoundTrip(self.conn)
        steps = {}
        if refs:
            steps["markets"] = trip.read(LOCK_MARKETS, {"refs": refs})
            steps["frozen_sells"] = trip.read(frozen.FROZEN_SELLS_BY_TOKEN_REF, {"refs": refs})
        if user_ids:
            steps["traders"] = trip.read(funds.LOCK_TRADERS, {"ids": user_ids,
                                                               "treasury": self.ledger.treasury_id})
            steps["invested"] = trip.read(investment.INVESTED,
                                          investment.invested_params(user_ids, self.clock()))
        if user_ids and refs:
            steps["wallets"] = trip.read(funds.LOCK_WALLETS_BY_TOKEN_REF,
                                         {"users": user_ids, "refs": refs})
        if order_ids:
            steps["orders"] = trip.read(LOCK_ORDERS, {"ids": order_ids})
        if client_ids:
            steps["client_ids"] = trip.read(BY_CLIENT_ID, lookup_params(client_ids, self.clock()))
        if not steps:
            return
        trip.run()
        found = {name: trip.rows(step) for name, step in steps.items()}
        self._add_markets(found.get("markets", ()))
        if "frozen_sells" in found:  # none found for a locked token: none to cancel
            self.frozen_sells.update({row.id: [] for row in found["markets"]})
            self.frozen_sells.update(frozen.by_token(found["frozen_sells"]))
        self.traders.update({row.id: row for row in found.get("traders", ())})
        self.invested.update({row.user_id: row.invested for row in found.get("invested", ())})
        if "wallets" in found:  # a wallet that does not exist yet holds no free tokens
            self.free_tokens.update({(u, m.id): 0 for u in user_ids for m in self.markets.values()})
            self.free_tokens.update(funds.free_tokens(found["wallets"]))
            self.frozen_wallets.update(funds.frozen_wallets(found["wallets"]))
        self.orders.update(order_states(found.get("orders", ())))
        if client_ids:
            self.client_ids.add(client_ids, found["client_ids"])

    def token_ids(self) -> set[uuid.UUID]:
        """The tokens whose books the group ran (their rows locked)."""
        return {market.id for market in self.markets.values()}

    def lock_markets(self, token_refs: set[str]) -> None:
        """Lock the token rows (spec step 2), in id order; each stays locked until commit."""
        wanted = sorted(ref for ref in token_refs if ref not in self.markets)
        if wanted:
            self._add_markets(self.conn.execute(LOCK_MARKETS, {"refs": wanted}))

    def _add_markets(self, rows: Any) -> None:
        for row in rows:
            market = Market(**row._asdict())
            self.markets[market.symbol] = self.markets[str(market.id)] = market

    def run(self, command: Command) -> Outcome:
        """Run one command; an expected refusal comes back as the error, changing nothing."""
        try:
            if isinstance(command, PlaceOrder):
                return place_order(self, command)
            if isinstance(command, AmendOrder):
                return amend_order(self, command)
            return self._cancel(command)
        except AlefError as error:
            # Without its traceback: the frames in it lead back to the caller's list of commands
            # and futures, a cycle that kept whole groups alive until a slow full collection.
            return error.with_traceback(None)

    def flush(self) -> None:
        """Write the group's orders, trades and balances (one round trip)."""
        self.ledger.flush(self.conn, list(self.orders.values()))

    def observe(self, market: Market, book: Any, raw: list[tuple], last_before: int | None,
                now: float) -> None:
        """Feed a submit's events to the guards; a breaker that trips halts the token (its row
        written by the guards, and the group's copy of it here)."""
        halt = self.guards.observe(self.conn, market.id, market.tick_size, book, raw,
                                   last_before, now)
        if halt is not None:
            halted = replace(market, halted_at=halt.since, halted_until=halt.until,
                             halt_reason=halt.reason)
            self.markets[market.symbol] = self.markets[str(market.id)] = halted
            self.halts.append((halted, halt))

    def _cancel(self, command: CancelOrder) -> dict[str, Any]:
        order_id = parse_order_id(command.order_id)
        order = None if order_id is None else self.order(order_id)
        others = order is not None and order.user_id != command.actor.user_id
        if order is None or (others and not policy.may(command.actor, "order.cancel.others")):
            raise NotFound(f"order not found: {command.order_id}")
        if order.is_finished:
            raise Conflict(f"order is already {order.status}")
        status_before = order.status
        market = self.market(str(order.token_id), trading=False)
        self.cancel_in_book(market, order, command.reason)
        if others:  # an admin (or the server, for a closed token) cancels an investor's order
            command.actor.audit(self.conn, "order.cancel", "order", order.id,
                                before={"owner": order.user_id, "status": status_before},
                                after={"status": order.status, "reason": command.reason})
        return order.public(market.symbol)

    def cancel_in_book(self, market: Market, order: OrderState, reason: str) -> None:
        """Take an open order out of its book, its locks released (the checks done)."""
        book = self.books.book(self.conn, market.id)
        events = [named(event) for event in book.cancel(order.id, reason)]
        if events and events[0].kind == "rejected":
            raise Conflict(f"order {order.id} is not in the book; the server is resynchronizing")
        self.apply(market, events)

    def market(self, token_ref: str, *, trading: bool = True, otc_allowed: bool = False) -> Market:
        """The token, locked, its book loaded; with `trading`, refused unless it trades."""
        self.lock_markets({token_ref})
        market = self.markets.get(token_ref)
        if market is None:
            raise NotFound(f"token not found: {token_ref}")
        self.books.book(self.conn, market.id)  # loaded here if not run yet, even if refused below
        if trading:
            refuse_not_trading(market, otc_allowed=otc_allowed)
            if market.trading_mode == "full_orderbook":
                frozen.cancel_frozen_sells(self, market)
        return market

    def trader(self, user_id: uuid.UUID) -> Any:
        """The investor's user row, locked."""
        if user_id not in self.traders:
            self.traders.update(funds.lock_traders(self.conn, [user_id], self.ledger.treasury_id))
        return self.traders[user_id]

    def invested_so_far(self, user_id: uuid.UUID) -> Decimal:
        """What the investor invested in the last 12 months as loaded (prepare's round trip, or
        one query), plus this group's buys so far: the running sum of the limit check."""
        if user_id not in self.invested:
            self.invested[user_id] = investment.invested(self.conn, user_id, self.clock())
        return self.invested[user_id] + self.invested_changes[user_id]

    def free_fiat(self, user_id: uuid.UUID) -> Decimal:
        """The free balance as loaded, changed by what this group moved so far."""
        return self.traders[user_id].fiat_balance + self.ledger.fiat_credits.get(user_id, 0)

    def free_quantity(self, user_id: uuid.UUID, token_id: uuid.UUID) -> int:
        """The investor's free tokens as loaded (locked), changed by what this group moved."""
        key = (user_id, token_id)
        if key not in self.free_tokens:
            free, frozen_whole = funds.lock_free_tokens(self.conn, [user_id], [token_id])
            self.free_tokens.update(free)
            self.frozen_wallets.update(frozen_whole)
        balance, locked = self.ledger.token_moves.get(key, (0, 0))
        return self.free_tokens.get(key, 0) + balance - locked

    def original(self, user_id: uuid.UUID, client_order_id: str | None) -> dict[str, Any] | None:
        """The answer to a resent client_order_id (client_ids.py), or None for a new one."""
        if client_order_id is None:
            return None
        return self.client_ids.original(self.conn, (user_id, client_order_id), self.clock,
                                        self.orders, self.markets)

    def order(self, order_id: uuid.UUID) -> OrderState | None:
        """The order, brought into the group (locked), or None if there is none."""
        self._load_orders({order_id})
        return self.orders.get(order_id)

    def _known(self, order_id: uuid.UUID) -> OrderState:
        """An order an engine event names: it is in the book, so it exists."""
        order = self.order(order_id)
        assert order is not None
        return order

    def _load_orders(self, order_ids: set[uuid.UUID | None]) -> None:
        """Bring orders into the group: from the open orders the books kept from earlier groups,
        else from the database, locked, in one statement."""
        missing = self._uncached_orders(order_ids)
        if missing:
            self.orders.update(load_orders(self.conn, missing))

    def _uncached_orders(self, order_ids: set[uuid.UUID | None]) -> list[uuid.UUID]:
        """Take the orders the books kept from earlier groups into the group; the ids of the
        rest (to load), sorted."""
        missing = []
        for order_id in order_ids:
            if order_id is None or order_id in self.orders:
                continue
            kept = self.books.open_order(order_id)
            if kept is not None:
                self.orders[order_id] = kept
            else:
                missing.append(order_id)
        return sorted(missing)

    def apply(self, market: Market, events: list[Any]) -> None:
        """Turn the engine's events into order states, trades and releases of funds."""
        touched: dict[uuid.UUID, OrderState] = {}
        self._load_orders({getattr(event, "maker_order_id", None) for event in events})
        for event in events:
            self.events.append((market, event))
            kind = event.kind
            if kind == "accepted":
                self.orders[event.order_id].engine_seq = event.seq
            elif kind == "trade":
                taker, maker = self._known(event.taker_order_id), self._known(event.maker_order_id)
                trade = self.ledger.trade(taker, maker, event.price * market.tick_size,
                                          event.quantity, market.fee_bps, event.seq, self.clock())
                buy, sell = (taker, maker) if taker.side == "buy" else (maker, taker)
                self.holdings.bought(buy.user_id, market.id)
                self.holdings.gone(sell.user_id, market.id, event.quantity)
                for order in (taker, maker):
                    order.trades.append({"trade_id": trade["id"], "price": trade["price"],
                                         "quantity": event.quantity})
                    self.ledger.status_change(order, "filled" if order.remaining == 0
                                              else "partially_filled")
                    if order.remaining == 0:
                        self.open_changes[(order.user_id, market.id)] -= 1
                    touched[order.id] = order
            elif kind == "cancelled":
                order = self._known(event.order_id)
                order.cancel_reason = event.reason
                if order.side == "buy":
                    self.holdings.gone(order.user_id, market.id, order.remaining)
                self.ledger.status_change(order, "cancelled", event.reason)
                self.open_changes[(order.user_id, market.id)] -= 1
                touched[order.id] = order
            elif kind == "stop_triggered":
                order = self._known(event.order_id)
                order.engine_seq = event.seq
                self.ledger.status_change(order, "open", "stop_triggered")
            elif kind == "rejected":
                raise InvalidInput(f"the matching engine refused the order: {event.reason}")
        for order in touched.values():
            keep = Decimal("0.00")
            if not order.is_finished and order.price is not None:
                keep = order.price * order.remaining
            self.ledger.release(order, keep)
