"""Settlement: trades pending, processing or failed, with attempts and errors; retry failures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal
from alefctl.tui.widgets import fill_table, selected_key, status_text
from alefctl.workflows.dashboard import STUCK_AFTER_MINUTES

POLL_SECONDS = 2.0


class SettlementScreen(ConsoleScreen):
    """The settlement queue, failed first; refreshed every two seconds while shown."""

    MODE = "settlement"
    READ_ACTION = "settlement.read"
    KEY_ACTIONS = {"retry_selected": "settlement.retry", "retry_all": "settlement.retry"}
    BINDINGS = [Binding("r", "retry_selected", "Retry trade"),
                Binding("R", "retry_all", "Retry all failed")]

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("Settlement", id="settlement-title", classes="title")
        table: DataTable[Any] = DataTable(id="settlement-table", cursor_type="row")
        table.add_columns("trade", "token", "seller", "buyer", "qty", "price", "status", "attempts",
                          "traded", "tx hash", "error")
        yield table

    def on_mount(self) -> None:
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        """Reload while shown."""
        if self.is_current and self.ready:
            self.reload()

    def reload(self) -> None:
        self.run_call(self.services.settlement_queue, done=self.show_queue, group="load",
                      exclusive=True, on_error=self.report_once)

    def show_queue(self, trades: list[Any]) -> None:
        """Fill the table; a trade waiting longer than STUCK_AFTER_MINUTES is marked stuck."""
        self.statuses = {str(t.id): t.settlement_status for t in trades}
        stuck_before = datetime.now().astimezone() - timedelta(minutes=STUCK_AFTER_MINUTES)
        failed = sum(1 for t in trades if t.settlement_status == "failed")
        stuck = sum(1 for t in trades if t.settlement_status != "failed" and t.created_at < stuck_before)
        self.query_one("#settlement-title", Static).update(
            f"Settlement · {len(trades)} unsettled · {failed} failed · {stuck} stuck"
            f" (waiting > {STUCK_AFTER_MINUTES} min)")
        fill_table(self.query_one("#settlement-table", DataTable), (
            (str(t.id), (t.id, t.symbol, t.seller_email, t.buyer_email, t.quantity, t.price,
                         _status(t, stuck_before), t.settlement_attempts, t.created_at, t.tx_hash,
                         t.settlement_error))
            for t in trades))

    def action_retry_selected(self) -> None:
        trade_id = selected_key(self.query_one("#settlement-table", DataTable))
        if trade_id is None:
            self.notify("No settlement awaits a retry.")
            return
        if self.statuses.get(trade_id) != "failed":
            self.notify(f"Only a failed settlement is retried; this one is"
                        f" {self.statuses.get(trade_id)} and the settlement worker still has it.")
            return
        self.confirm_then(ConfirmModal(f"Retry the settlement of trade {trade_id}?", "Retry"),
                          lambda _yes: self._retry([trade_id]))

    def action_retry_all(self) -> None:
        failed = sum(1 for status in self.statuses.values() if status == "failed")
        if not failed:
            self.notify("No settlement has failed: nothing to retry.")
            return
        self.confirm_then(ConfirmModal(f"Retry all {failed} failed settlements?", "Retry all"),
                          lambda _yes: self._retry(None))

    def _retry(self, trade_ids: list[str] | None) -> None:
        self.run_call(self.services.retry_settlements, trade_ids, done=lambda _ids: self.reload(),
                      success=lambda ids: f"{len(ids)} settlements queued for retry")


def _status(trade: Any, stuck_before: datetime) -> Text:
    text = status_text(trade.settlement_status)
    if trade.settlement_status != "failed" and trade.created_at < stuck_before:
        text.append(" stuck", style="bold red")
    return text
