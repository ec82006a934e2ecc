"""Holders of one token (from a token's detail, key l): the database's balance, locked, frozen and
sellable figures beside the chain's, the token's agent operations, and the admin's keys: freeze
and unfreeze (the whole wallet or a quantity), forced transfer, burn and wallet recovery (these
three are four-eyes requests another admin approves). The rules are workflows/holders/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import TextModal
from alefctl.tui.widgets import fill_table, selected_key, short_id
from alefctl.workflows.holders import listing, recovery, severe

HOLDER_COLUMNS = ("email", "balance", "locked", "frozen", "wallet frozen", "sellable",
                  "chain balance", "chain frozen", "chain wallet frozen", "matches")


class HoldersScreen(ConsoleScreen):
    """A token's holders, database and chain side by side, and its agent operations."""

    MODE = "tokens"
    READ_ACTION = "holder.read"
    BINDINGS = [
        Binding("escape", "back", "Back"), Binding("f", "freeze(False)", "Freeze wallet"),
        Binding("z", "freeze(True)", "Freeze tokens"), Binding("u", "unfreeze(False)", "Unfreeze"),
        Binding("l", "unfreeze(True)", "Release tokens"),
        Binding("t", "force_transfer", "Forced transfer"), Binding("b", "burn", "Burn"),
        Binding("w", "recover", "Recover wallet"),
    ]
    KEY_ACTIONS = {"freeze": "holder.freeze", "unfreeze": "holder.freeze",
                   "force_transfer": "holder.force_transfer", "burn": "token.burn",
                   "recover": "holder.recover"}

    def __init__(self, symbol: str):
        super().__init__()
        self.symbol = symbol

    def compose_body(self) -> ComposeResult:
        yield Static(f"Holders of {self.symbol}", id="holders-title", classes="title")
        holders: DataTable[Any] = DataTable(id="holders-table", cursor_type="row")
        holders.add_columns(*HOLDER_COLUMNS)
        yield holders
        yield Static("Agent operations", id="operations-title", classes="title")
        operations: DataTable[Any] = DataTable(id="operations-table", cursor_type="row")
        operations.add_columns("operation", "kind", "holder", "to", "quantity", "chain", "error")
        yield operations

    def reload(self) -> None:
        self.run_call(self.services.holders, self.symbol, done=self.show_holders, group="load",
                      exclusive=True)
        self.run_call(self.services.call, listing.list_operations, self.symbol,
                      done=self.show_operations, group="operations", exclusive=True)

    def show_holders(self, found: tuple[Any, list[dict[str, Any]]]) -> None:
        """Fill the holders table."""
        _token, holders = found
        self.query_one("#holders-title", Static).update(
            f"Holders of {self.symbol} · {len(holders)} · chain figures in whole tokens")
        fill_table(self.query_one("#holders-table", DataTable), (
            (h["email"], (h["email"], h["balance"], h["locked"], h["frozen_quantity"],
                          h["is_frozen"], h["sellable"], h["chain_balance"], h["chain_frozen"],
                          h["chain_is_frozen"], h["matches"]))
            for h in holders))

    def show_operations(self, operations: list[dict[str, Any]]) -> None:
        """Fill the agent operations table."""
        fill_table(self.query_one("#operations-table", DataTable), (
            (str(o["id"]), (short_id(o["id"]), o["kind"], o["email"], o["to_email"],
                            o["quantity"], o["chain_status"], o["chain_error"]))
            for o in operations))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_freeze(self, partial: bool) -> None:
        self._freeze_step("freeze", partial)

    def action_unfreeze(self, partial: bool) -> None:
        self._freeze_step("unfreeze", partial)

    def action_force_transfer(self) -> None:
        email = self._holder()
        if email is not None:
            self._ask([f"Forced transfer of {email}'s {self.symbol}: the receiver's email",
                       "How many tokens", "The reason (court order, estate)"],
                      lambda a: self._request(severe.request_forced_transfer, self.symbol, email,
                                              a[0], _quantity(a[1]), a[2]))

    def action_burn(self) -> None:
        email = self._holder()
        if email is not None:
            self._ask([f"Burn {email}'s {self.symbol}: how many tokens", "The reason"],
                      lambda a: self._request(severe.request_burn, self.symbol, email,
                                              _quantity(a[0]), a[1]))

    def action_recover(self) -> None:
        email = self._holder()
        if email is not None:
            self._ask([f"Recover {email}'s lost wallet: the new wallet (0x...)", "The reason"],
                      lambda a: self._request(recovery.request_recovery, email, a[0], a[1]))

    def _freeze_step(self, kind: str, partial: bool) -> None:
        email = self._holder()
        if email is None:
            return
        what = "tokens" if partial else "wallet"
        questions = [f"{kind.capitalize()} {email}'s {self.symbol} {what}: how many tokens"] if (
            partial) else []

        def run(answers: list[str]) -> None:
            quantity = _quantity(answers[0]) if partial else None
            self.run_call(self.services.change_freeze, kind, self.symbol, email, quantity,
                          answers[-1], always=self.action_reload,
                          success=lambda r: f"{email}: {kind} {what} (chain {r['chain_status']})")

        self._ask([*questions, f"{kind.capitalize()} {email}'s {self.symbol} {what}: the reason"],
                  run)

    def _request(self, workflow: Callable[..., Any], *args: Any) -> None:
        self.run_call(self.services.call, workflow, *args, always=self.action_reload,
                      success=lambda r: f"{r.summary}: needs a second admin (Four-eyes approvals)")

    def _holder(self) -> str | None:
        email = selected_key(self.query_one("#holders-table", DataTable))
        if email is None:
            self.notify(f"{self.symbol} has no holder to act on.")
        return email

    def _ask(self, questions: list[str], then: Callable[[list[str]], Any]) -> None:
        """Ask each question in turn (esc cancels all), then run `then` with the answers."""
        answers: list[str] = []

        def ask_next() -> None:
            if len(answers) == len(questions):
                then(answers)
                return
            self.confirm_then(TextModal(questions[len(answers)]), answered)

        def answered(answer: str) -> None:
            answers.append(answer)
            ask_next()

        ask_next()


def _quantity(raw: str) -> Any:
    """A typed quantity: an integer when it is one; else the text, which the workflow refuses."""
    return int(raw) if raw.strip().isdigit() else raw
