"""Tokens: every token with its status and trading mode; enter opens its detail and actions."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.token_detail import TokenDetailScreen
from alefctl.tui.widgets import fill_table, selected_key, status_text
from alefctl.workflows.tokens import Token, list_tokens


class TokensScreen(ConsoleScreen):
    """Tokens by symbol; `reserved` are tokens of allocations awaiting payment confirmation."""

    MODE = "tokens"
    READ_ACTION = "token.read"
    BINDINGS = [Binding("k", "market", "Market")]

    def compose_body(self) -> ComposeResult:
        yield Static("Tokens", id="tokens-title", classes="title")
        table: DataTable[Any] = DataTable(id="tokens-table", cursor_type="row")
        table.add_columns("symbol", "name", "status", "trading mode", "supply", "sold", "reserved",
                          "raised", "price", "NAV", "contract")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.read, list_tokens, done=self.show_tokens, group="load",
                      exclusive=True)

    def show_tokens(self, tokens: list[Token]) -> None:
        """Fill the table."""
        awaiting = sum(1 for t in tokens if t.tokens_reserved)
        self.query_one("#tokens-title", Static).update(
            f"Tokens · {len(tokens)} · {awaiting} with allocations awaiting payment confirmation ·"
            " enter opens a token and its actions")
        fill_table(self.query_one("#tokens-table", DataTable), (
            (t.symbol, (t.symbol, t.name, status_text(t.status), t.trading_mode, t.total_supply,
                        t.tokens_sold, t.tokens_reserved, t.total_raised, t.price_per_token,
                        t.nav_per_token, t.contract_address))
            for t in tokens))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(TokenDetailScreen(str(event.row_key.value)))

    def action_market(self) -> None:
        symbol = selected_key(self.query_one("#tokens-table", DataTable))
        if symbol:
            self.app.open_market(symbol)  # type: ignore[attr-defined]
