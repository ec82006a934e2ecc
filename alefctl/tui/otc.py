"""OTC approvals: pending fixed-price OTC orders; approve (trade against the treasury) or reject."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.widgets import fill_table, selected_key, short_id


class OtcScreen(ConsoleScreen):
    """Pending OTC orders of tokens in fixed_price_otc mode, oldest first."""

    MODE = "otc"
    READ_ACTION = "otc.read"
    KEY_ACTIONS = {"approve": "otc.review", "reject": "otc.review"}
    BINDINGS = [Binding("a", "approve", "Approve"), Binding("r", "reject", "Reject")]

    def compose_body(self) -> ComposeResult:
        yield Static("OTC orders awaiting approval", id="otc-title", classes="title")
        table: DataTable[Any] = DataTable(id="otc-table", cursor_type="row")
        table.add_columns("order", "token", "investor", "side", "quantity", "price", "total",
                          "placed")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.otc_queue, done=self.show_queue, group="load", exclusive=True)

    def show_queue(self, orders: list[dict[str, Any]]) -> None:
        """Fill the table."""
        self.query_one("#otc-title", Static).update(f"OTC orders awaiting approval · {len(orders)}")
        fill_table(self.query_one("#otc-table", DataTable), (
            (str(o["id"]), (short_id(o["id"]), o["symbol"], o["email"], o["side"], o["quantity"],
                            o["price"], o["total"], o["created_at"]))
            for o in orders))

    def action_approve(self) -> None:
        otc_id = selected_key(self.query_one("#otc-table", DataTable))
        if otc_id is not None:
            self.confirm_then(ConfirmModal(f"Execute OTC order {short_id(otc_id)} against the"
                                           " treasury?", "Approve"),
                              lambda _yes: self._decide(otc_id, True, None))

    def action_reject(self) -> None:
        otc_id = selected_key(self.query_one("#otc-table", DataTable))
        if otc_id is not None:
            self.confirm_then(TextModal(f"Why reject OTC order {short_id(otc_id)}?"),
                              lambda reason: self._decide(otc_id, False, reason))

    def _decide(self, otc_id: str, approve: bool, reason: str | None) -> None:
        self.run_call(self.services.decide_otc, otc_id, approve, reason,
                      done=lambda _order: self.reload(),
                      success="OTC order executed" if approve else "OTC order rejected; funds returned")
