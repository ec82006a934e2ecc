"""One group of order commands in one transaction (docs/architecture.md, "The order path").

Every check that can refuse a command runs before the command changes anything, so a refused
command leaves no trace and the rest of the group goes on. The books are the caller's (books.Books):
after the commit the caller applies the group to them, and if the transaction fails, restores them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.db.batches import RoundTrip
from alefctl.errors import AlefError, Conflict, InvalidInput, NotFound, TooManyOpenOrders
from alefctl.ids import new_id
from alefctl.workflows import policy
from alefctl.workflows import investment_limits as investment
from alefctl.workflows.actor import Actor
from alefctl.workflows.compliance import ComplianceRules, check_acquisition, get_rules
from alefctl.workflows.lockup import check_lockup
from alefctl.workflows.orders import OrderRequest, check_order_shape, to_ticks
from alefctl.workflows.protections import TOKEN_COLUMNS as THRESHOLD_COLUMNS
from alefctl.workflows.trading import funds
from alefctl.workflows.trading.amend import AmendOrder, amend_order
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.guards import Halt
from alefctl.workflows.trading.ledger import GroupLedger
from alefctl.workflows.trading.lifetime import expire_at
from alefctl.workflows.trading.state import (
    LOAD_COLUMNS,
    LOCK_ORDERS,
    OrderState,
    load_orders,
    order_states,
)
from alefctl.workflows.trading.stop_gate import stop_gate
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL, STOP_TYPES
from engine.events import named


@dataclass(frozen=True)
class PlaceOrder:
    """An investor's new order."""

    actor: Actor
    request: OrderRequest


@dataclass(frozen=True)
class CancelOrder:
    """Cancel an order: its owner, or an admin (the server: when it expires, or its owner's
    dead-man's switch lapses, with that reason)."""

    actor: Actor
    order_id: str
    reason: str = "user"


@dataclass(frozen=True)
class Market:
    """A token row as locked for the group."""

    id: uuid.UUID
    symbol: str
    status: str
    trading_mode: str
    tick_size: Decimal
    fee_bps: int
    nav_per_token: Decimal | None
    lockup_until: datetime | None
    session_end: time | None  # when DAY orders expire (UTC); None: settings.lifetime
    # its protection thresholds (None: the platform's; workflows/protections.py) and its halt
    breaker_move_pct: Decimal | None
    breaker_window_s: int | None
    breaker_halt_s: int | None
    fat_finger_pct: Decimal | None
    nav_deviation_pct: Decimal | None
    halted_at: datetime | None
    halted_until: datetime | None
    halt_reason: str | None


Command = PlaceOrder | CancelOrder | AmendOrder
Outcome = dict[str, Any] | AlefError
ClientOrderKey = tuple[uuid.UUID, str]  # (investor, client_order_id)
# A resent client_order_id returns the original order, whatever its state, while it is open and
# for this long after it was placed (README, "The order API"); later the id may be used again.
CLIENT_ORDER_ID_WINDOW = timedelta(hours=24)
# Each key's newest order, if still open or placed within the window: one probe of the index
# orders_client_order_id per key (newest first, LIMIT 1). As a plain join, the planner scanned
# every order with a client_order_id and hashed them whenever the statistics lagged a
# fast-growing orders table; the LIMIT keeps each lookup a probe whatever the statistics say.
BY_CLIENT_ID = text(
    "SELECT o.*, (SELECT symbol FROM tokens WHERE id = o.token_id) AS symbol"
    " FROM unnest(CAST(:users AS uuid[]), CAST(:client_ids AS text[]))"
    " AS k(user_id, client_order_id) CROSS JOIN LATERAL"
    f" (SELECT {LOAD_COLUMNS} FROM orders WHERE user_id = k.user_id"
    " AND client_order_id = k.client_order_id ORDER BY created_at DESC LIMIT 1) AS o"
    f" WHERE o.status IN {OPEN_STATUSES_SQL} OR o.created_at > :since")
LOCK_MARKETS = text(
    "SELECT id, symbol, status, trading_mode, tick_size, fee_bps, nav_per_token, lockup_until,"
    " session_end,"
    f" {THRESHOLD_COLUMNS}, halted_at, halted_until, halt_reason FROM tokens"
    f" WHERE {funds.TOKENS_BY_REF} ORDER BY id FOR UPDATE")


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
        self.by_client_id: dict[ClientOrderKey, Original | None] = {}  # as loaded
        self.placed_by_client_id: dict[ClientOrderKey, OrderState] = {}  # new in this group
        self.events: list[tuple[Market, Any]] = []
        self.halts: list[tuple[Market, Halt]] = []  # circuit breakers tripped in this group
        self.compliance_rules: dict[uuid.UUID, ComplianceRules] = {}  # as loaded
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
            {_order_id(c.order_id) for c in commands if isinstance(c, CancelOrder | AmendOrder)})
        client_ids = sorted({(c.actor.user_id, c.request.client_order_id) for c in places
                             if c.request.client_order_id is not None} - self.by_client_id.keys())
        trip = RoundTrip(self.conn)
        steps = {}
        if refs:
            steps["markets"] = trip.read(LOCK_MARKETS, {"refs": refs})
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
            steps["client_ids"] = trip.read(BY_CLIENT_ID, self._client_id_params(client_ids))
        if not steps:
            return
        trip.run()
        found = {name: trip.rows(step) for name, step in steps.items()}
        self._add_markets(found.get("markets", ()))
        self.traders.update({row.id: row for row in found.get("traders", ())})
        self.invested.update({row.user_id: row.invested for row in found.get("invested", ())})
        if "wallets" in found:  # a wallet that does not exist yet holds no free tokens
            self.free_tokens.update({(u, m.id): 0 for u in user_ids for m in self.markets.values()})
            self.free_tokens.update(funds.free_tokens(found["wallets"]))
            self.frozen_wallets.update(funds.frozen_wallets(found["wallets"]))
        self.orders.update(order_states(found.get("orders", ())))
        if client_ids:
            self.by_client_id.update(_by_client_id(client_ids, found["client_ids"]))

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
                return self._place(command)
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

    def _place(self, command: PlaceOrder) -> dict[str, Any]:
        request, actor = command.request, command.actor
        check_order_shape(request)
        original = self._original(actor.user_id, request.client_order_id)
        if original is not None:  # a retry: never a second order
            return original
        market = self._market(request.token, otc_allowed=True)
        self.guards.refuse_halted(market, self.clock())
        if request.side == "buy":
            if market.id not in self.compliance_rules:  # once per token and group
                self.compliance_rules[market.id] = get_rules(self.conn, market.id)
            check_acquisition(self.conn, market.id, actor.user_id, request.quantity,
                              self.compliance_rules[market.id])
        if market.trading_mode == "fixed_price_otc":
            from alefctl.workflows.otc import place_otc_order

            try:
                return place_otc_order(self.conn, actor, market, request, self.limits)
            finally:  # it changed the balances in the database: read them again when needed
                self.traders.pop(actor.user_id, None)
                self.free_tokens.pop((actor.user_id, market.id), None)
        price = to_ticks(request.price, market.tick_size)
        stop = to_ticks(request.stop_price, market.tick_size, field="stop_price")
        book = self.books.book(self.conn, market.id)
        now = self.clock().timestamp()
        nav = None if market.nav_per_token is None else int(market.nav_per_token / market.tick_size)
        self.guards.check(market, book, price, nav, now, request.confirm_fat_finger,
                          request.confirm_nav_deviation)
        trader = self._trader(actor.user_id)
        funds.check_trader(trader)
        self._check_open_orders(actor.user_id, market)
        order = OrderState(
            id=new_id(), user_id=actor.user_id, token_id=market.id, side=request.side,
            order_type=request.order_type, quantity=request.quantity, price=request.price,
            stop_price=request.stop_price, time_in_force=request.time_in_force,
            stp_mode=request.self_trade_prevention, client_order_id=request.client_order_id,
            created_at=self.clock(), is_new=True,
            status="pending_stop" if request.order_type in STOP_TYPES else "open",
            expire_at=expire_at(request.time_in_force, request.expire_at, market.session_end,
                                self.limits.lifetime, self.clock()))
        cap = self._lock_funds(order, trader, market)
        last_before = book.last_price
        book.stop_gate = stop_gate(self.conn, self.traders, self.guards, market.id, book,
                                   nav, now)
        try:
            raw = book.submit(order.id, order.user_id, order.side, order.order_type,
                              order.quantity, price, stop, order.time_in_force, order.stp_mode, cap)
        finally:
            book.stop_gate = None  # the gate holds this group's connection
        events = [named(event) for event in raw]
        if events and events[0].kind == "rejected":
            self._unlock(order)
            raise InvalidInput(f"the matching engine refused the order: {events[0].reason}")
        self.orders[order.id] = order
        self.open_changes[(order.user_id, market.id)] += 1
        if order.client_order_id is not None:
            self.placed_by_client_id[(order.user_id, order.client_order_id)] = order
        self.ledger.opened(order)
        self._apply(market, events)
        self.observe(market, book, raw, last_before, now)
        return order.public(market.symbol)

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
        order_id = _order_id(command.order_id)
        order = None if order_id is None else self._order(order_id)
        others = order is not None and order.user_id != command.actor.user_id
        if order is None or (others and not policy.may(command.actor, "order.cancel.others")):
            raise NotFound(f"order not found: {command.order_id}")
        if order.is_finished:
            raise Conflict(f"order is already {order.status}")
        status_before = order.status
        market = self._market(str(order.token_id), trading=False)
        book = self.books.book(self.conn, market.id)
        events = [named(event) for event in book.cancel(order.id, command.reason)]
        if events and events[0].kind == "rejected":
            raise Conflict(f"order {order.id} is not in the book; the server is resynchronizing")
        self._apply(market, events)
        if others:  # an admin (or the server, for a closed token) cancels an investor's order
            command.actor.audit(self.conn, "order.cancel", "order", order.id,
                                before={"owner": order.user_id, "status": status_before},
                                after={"status": order.status, "reason": command.reason})
        return order.public(market.symbol)

    def _check_open_orders(self, user_id: uuid.UUID, market: Market) -> None:
        """Refuse a new order to an investor with the most open orders allowed on the token: the
        committed count kept with the books, and this group's changes so far."""
        key = (user_id, market.id)
        limit = self.limits.max_open_orders
        if self.books.open_count(user_id, market.id) + self.open_changes[key] >= limit:
            raise TooManyOpenOrders(f"you have {limit} open orders on {market.symbol}, the most"
                                    " allowed: cancel one first")

    def _market(self, token_ref: str, *, trading: bool = True, otc_allowed: bool = False) -> Market:
        self.lock_markets({token_ref})
        market = self.markets.get(token_ref)
        if market is None:
            raise NotFound(f"token not found: {token_ref}")
        self.books.book(self.conn, market.id)  # loaded here if not run yet, even if refused below
        if not trading:
            return market
        if market.trading_mode == "primary_subscription":
            raise Conflict(f"{market.symbol} is in its primary offering: subscribe instead")
        if otc_allowed and market.trading_mode == "fixed_price_otc" and market.status == "secondary":
            return market
        if market.trading_mode != "full_orderbook" or market.status != "secondary":
            raise Conflict(f"{market.symbol} is not trading on the order book"
                           f" (status {market.status}, mode {market.trading_mode})")
        return market

    def _trader(self, user_id: uuid.UUID) -> Any:
        if user_id not in self.traders:
            self.traders.update(funds.lock_traders(self.conn, [user_id], self.ledger.treasury_id))
        return self.traders[user_id]

    def _invested(self, user_id: uuid.UUID) -> Decimal:
        """What the investor invested in the last 12 months as loaded (prepare's round trip, or
        one query), plus this group's buys so far: the running sum of the limit check."""
        if user_id not in self.invested:
            self.invested[user_id] = investment.invested(self.conn, user_id, self.clock())
        return self.invested[user_id] + self.invested_changes[user_id]

    def _free_fiat(self, user_id: uuid.UUID) -> Decimal:
        """The free balance as loaded, changed by what this group moved so far."""
        return self.traders[user_id].fiat_balance + self.ledger.fiat_credits.get(user_id, 0)

    def _free_tokens(self, user_id: uuid.UUID, token_id: uuid.UUID) -> int:
        key = (user_id, token_id)
        if key not in self.free_tokens:
            free, frozen = funds.lock_free_tokens(self.conn, [user_id], [token_id])
            self.free_tokens.update(free)
            self.frozen_wallets.update(frozen)
        balance, locked = self.ledger.token_moves.get(key, (0, 0))
        return self.free_tokens.get(key, 0) + balance - locked

    def _lock_funds(self, order: OrderState, trader: Any, market: Market) -> int | None:
        """Lock what the order may use (written with the group: the rows are locked since it
        began); returns the engine's notional cap for market buys."""
        if order.side == "sell":  # sells are never capped
            free = self._free_tokens(order.user_id, market.id)
            if (order.user_id, market.id) in self.frozen_wallets:
                funds.refuse_frozen(market.symbol)
            funds.refuse_tokens(order.quantity, free)
            check_lockup(self.conn, order.user_id, market.id, market.symbol, market.lockup_until,
                         free, order.quantity, self.clock())
            self.ledger.move_tokens(order.user_id, market.id, 0, order.quantity)
            order.locked_quantity = order.quantity
            return None
        if order.price is not None:  # limit and stop_limit buys lock price x quantity
            amount = order.price * order.quantity
            funds.check_investment(trader, self._invested(order.user_id), amount, self.limits)
            cap = None
        else:  # market and stop_loss buys lock a bounded budget
            amount = funds.market_budget(trader, self._free_fiat(order.user_id),
                                         self._invested(order.user_id), self.limits)
            cap = int(amount / market.tick_size)
        funds.refuse_fiat(amount, self._free_fiat(order.user_id))
        self.ledger.credit_fiat(order.user_id, -amount)
        self.invested_changes[order.user_id] += amount
        order.locked_fiat = amount
        return cap

    def _unlock(self, order: OrderState) -> None:
        """Give back what _lock_funds took, for an order that never entered the book."""
        if order.side == "buy":
            self.ledger.credit_fiat(order.user_id, order.locked_fiat)
            self.invested_changes[order.user_id] -= order.locked_fiat
        else:
            self.ledger.move_tokens(order.user_id, order.token_id, 0, -order.locked_quantity)

    def _original(self, user_id: uuid.UUID, client_order_id: str | None) -> dict[str, Any] | None:
        """The answer to a resent client_order_id: the original order as it is now (marked
        `duplicate`, no fills of its own), or None for a new key."""
        if client_order_id is None:
            return None
        key = (user_id, client_order_id)
        placed = self.placed_by_client_id.get(key)
        if placed is not None:
            return _resent(placed, self.markets[str(placed.token_id)].symbol)
        if key not in self.by_client_id:
            rows = self.conn.execute(BY_CLIENT_ID, self._client_id_params([key]))
            self.by_client_id.update(_by_client_id([key], rows))
        found = self.by_client_id[key]
        if found is None:
            return None
        # as this group left it, if it touched the order (a fill, a cancel)
        return _resent(self.orders.get(found.order.id, found.order), found.symbol)

    def _client_id_params(self, keys: list[ClientOrderKey]) -> dict[str, Any]:
        return {"users": [u for u, _ in keys], "client_ids": [c for _, c in keys],
                "since": self.clock() - CLIENT_ORDER_ID_WINDOW}

    def _order(self, order_id: uuid.UUID) -> OrderState | None:
        self._load_orders({order_id})
        return self.orders.get(order_id)

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

    def _apply(self, market: Market, events: list[Any]) -> None:
        """Turn the engine's events into order states, trades and releases of funds."""
        touched: dict[uuid.UUID, OrderState] = {}
        self._load_orders({getattr(event, "maker_order_id", None) for event in events})
        for event in events:
            self.events.append((market, event))
            kind = event.kind
            if kind == "accepted":
                self.orders[event.order_id].engine_seq = event.seq
            elif kind == "trade":
                taker, maker = self._order(event.taker_order_id), self._order(event.maker_order_id)
                assert taker is not None and maker is not None
                trade = self.ledger.trade(taker, maker, event.price * market.tick_size,
                                          event.quantity, market.fee_bps, event.seq, self.clock())
                for order in (taker, maker):
                    order.trades.append({"trade_id": trade["id"], "price": trade["price"],
                                         "quantity": event.quantity})
                    self.ledger.status_change(order, "filled" if order.remaining == 0
                                              else "partially_filled")
                    if order.remaining == 0:
                        self.open_changes[(order.user_id, market.id)] -= 1
                    touched[order.id] = order
            elif kind == "cancelled":
                order = self._order(event.order_id)
                assert order is not None
                order.cancel_reason = event.reason
                self.ledger.status_change(order, "cancelled", event.reason)
                self.open_changes[(order.user_id, market.id)] -= 1
                touched[order.id] = order
            elif kind == "stop_triggered":
                order = self._order(event.order_id)
                assert order is not None
                order.engine_seq = event.seq
                self.ledger.status_change(order, "open", "stop_triggered")
            elif kind == "rejected":
                raise InvalidInput(f"the matching engine refused the order: {event.reason}")
        for order in touched.values():
            keep = Decimal("0.00")
            if not order.is_finished and order.price is not None:
                keep = order.price * order.remaining
            self.ledger.release(order, keep)


@dataclass(frozen=True)
class Original:
    """The order a client_order_id names, as loaded, and its token's symbol."""

    order: OrderState
    symbol: str


def _by_client_id(keys: list[ClientOrderKey], rows: Any) -> dict[ClientOrderKey, Original | None]:
    """Each (investor, client_order_id) asked for: its original order (BY_CLIENT_ID), or None."""
    found = {}
    for row in rows:
        fields = row._asdict()
        symbol = fields.pop("symbol")
        found[(row.user_id, row.client_order_id)] = Original(OrderState(**fields), symbol)
    return {key: found.get(key) for key in keys}


def _resent(order: OrderState, symbol: str) -> dict[str, Any]:
    """The answer to a retry: the order now, without fills (this request made none)."""
    return order.public(symbol) | {"trades": [], "duplicate": True}


def _order_id(text_id: str) -> uuid.UUID | None:
    """An order id as given by a caller, or None if it cannot be one."""
    try:
        return uuid.UUID(text_id)
    except ValueError:
        return None
