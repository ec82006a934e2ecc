"""Market: a token's depth ladder, recent trades, a price chart and its open orders, live."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Select, Sparkline, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.market_data import MarketView, load_market, market_symbols
from alefctl.tui.modals import ConfirmModal
from alefctl.tui.widgets import fill_table, selected_key, short_id, when

POLL_SECONDS = 1.0
ORDERS_NOTE = ("[dim]x cancels the highlighted order: a running `alefctl serve` applies it to its"
               " book (LISTEN/NOTIFY); without a server it is cancelled directly.[/dim]")


class MarketScreen(ConsoleScreen):
    """Polls the database every second: `alefctl serve` commits every group of orders there."""

    MODE = "market"
    READ_ACTION = "market.read"
    KEY_ACTIONS = {"cancel_order": "order.cancel.others"}
    BINDINGS = [Binding("t", "pick_token", "Token"), Binding("x", "cancel_order", "Cancel order"),
                Binding("o", "app.switch_mode('otc')", "OTC approvals")]

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, dict[str, Any]] = {}  # the open orders shown, by id

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="market-top"):
            yield Select[str]([], prompt="token", id="market-token", allow_blank=True)
            yield Static("Pick a token.", id="market-summary")
        with Horizontal(id="market-panels"):
            with Vertical(id="market-left"):
                yield Static("Order book (committed orders, asks above bids)", classes="title")
                ladder: DataTable[Any] = DataTable(id="ladder", cursor_type="none")
                ladder.add_columns("orders", "bid qty", "price", "ask qty", "orders")
                yield ladder
            with Vertical(id="market-right"):
                yield Static("Last trades (oldest to newest)", classes="title")
                yield Sparkline([], id="price-chart")
                trades: DataTable[Any] = DataTable(id="trades", cursor_type="row")
                trades.add_columns("time", "price", "qty", "taker")
                yield trades
        yield Static(f"Open orders · {ORDERS_NOTE}", id="orders-title", classes="title")
        orders: DataTable[Any] = DataTable(id="orders", cursor_type="row")
        orders.add_columns("id", "investor", "side", "type", "price", "stop", "qty", "filled", "status")
        yield orders

    def on_mount(self) -> None:
        self.set_interval(POLL_SECONDS, self.poll)

    def actor_known(self) -> None:
        """Every user's open orders only for a role that may read them (admins)."""
        for part in self.query("#orders-title, #orders"):
            part.display = self.may("order.read.others")
        if self.symbol and self.may("order.read.others"):
            self.query_one("#orders", DataTable).focus()  # a token is picked: on to its orders
        super().actor_known()

    @property
    def symbol(self) -> str | None:
        """The token shown (kept by the app, so the tokens screen can open a market)."""
        return self.app.market_symbol  # type: ignore[attr-defined]

    def poll(self) -> None:
        """Reload while shown."""
        if self.is_current and self.ready and self.symbol:
            self.run_call(self.services.read, load_market, self.symbol,
                          self.may("order.read.others"), done=self.show_market,
                          on_error=self.show_problem, group="poll", exclusive=True)

    def reload(self) -> None:
        self.run_call(self.services.read, market_symbols, done=self.show_symbols, group="load")
        self.poll()

    def show_symbols(self, symbols: list[str]) -> None:
        """The token picker's options."""
        picker = self.query_one("#market-token", Select)
        with picker.prevent(Select.Changed):
            picker.set_options([(s, s) for s in symbols])
            if self.symbol in symbols:
                picker.value = self.symbol

    def on_select_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.app.market_symbol = event.value  # type: ignore[attr-defined]
            self.orders = {}
            self.poll()
            # The keys act on the highlighted order: leave the picker for the orders.
            self.query_one("#orders", DataTable).focus()

    def action_pick_token(self) -> None:
        self.query_one("#market-token", Select).focus()

    def action_cancel_order(self) -> None:
        """Cancel the highlighted open order after a confirmation naming it (its funds come back)."""
        table = self.query_one("#orders", DataTable)
        order = self.orders.get(selected_key(table) or "")
        if order is None:
            self.notify(f"{self.symbol or 'This token'} has no open order to cancel.")
            return
        if not table.has_focus:  # the highlighted row is the one the admin can see
            table.focus()
            self.notify("Highlight the order to cancel in Open orders, then press x again.")
            return
        order_id = str(order["id"])
        self.confirm_then(ConfirmModal(f"Cancel {describe_order(order, self.symbol)}?"
                                       " Its locked funds or tokens come back.", "Cancel order"),
                          lambda _yes: self.run_call(
                              self.services.cancel_order, order_id, done=lambda _: self.poll(),
                              success="order cancelled; its funds are back"))

    def show_market(self, market: MarketView) -> None:
        """Ladder, chart, trades and orders of the latest poll."""
        best_bid = market.bids[0].price if market.bids else "-"
        best_ask = market.asks[0].price if market.asks else "-"
        spread = "-" if market.spread is None else f"{market.spread}"
        self.query_one("#market-summary", Static).update(
            f"[b]{market.symbol}[/b] {market.status} · last [b]{market.last_price or '-'}[/b] ·"
            f" bid [green]{best_bid}[/green] · ask [red]{best_ask}[/red] · spread {spread} ·"
            f" {len(market.orders)} open orders")
        asks: list[tuple[str, tuple[Any, ...]]] = [
            (f"a{lv.price}", ("", "", Text(str(lv.price), style="red"), lv.quantity, lv.orders))
            for lv in reversed(market.asks)]
        bids: list[tuple[str, tuple[Any, ...]]] = [
            (f"b{lv.price}", (lv.orders, lv.quantity, Text(str(lv.price), style="green"), "", ""))
            for lv in market.bids]
        fill_table(self.query_one("#ladder", DataTable), asks + bids)
        chronological = list(reversed(market.trades))
        # Plotting only: the chart needs floats; prices stay Decimal everywhere else.
        self.query_one("#price-chart", Sparkline).data = [float(t["price"]) for t in chronological]
        fill_table(self.query_one("#trades", DataTable), (
            (str(t["id"]), (when(t["created_at"])[11:], t["price"], t["quantity"], t["taker_side"]))
            for t in market.trades))
        self.orders = {str(o["id"]): o for o in market.orders}
        fill_table(self.query_one("#orders", DataTable), (
            (str(o["id"]), (short_id(o["id"]), o["email"], o["side"], o["order_type"], o["price"],
                            o["stop_price"], o["quantity"], o["filled_quantity"], o["status"]))
            for o in market.orders))

    def show_problem(self, message: str) -> None:
        """The last poll failed: say so in place, and notify once."""
        self.query_one("#market-summary", Static).update(f"[red]{message}[/red]")
        self.report_once(message)


def describe_order(order: dict[str, Any], symbol: str | None) -> str:
    """An order as a person reads it: investor, side, quantity, price, and its short id."""
    price = order["price"] if order["price"] is not None else order["order_type"]
    at = f"at {price:,} USD" if not isinstance(price, str) else f"({price})"
    stop = f", stop {order['stop_price']:,}" if order["stop_price"] is not None else ""
    left = order["quantity"] - order["filled_quantity"]
    filled = f" ({left:,} left)" if order["filled_quantity"] else ""
    return (f"{order['email']}'s {order['side']} of {order['quantity']:,} {symbol or ''}{filled}"
            f" {at}{stop} (order {short_id(order['id'])})")
