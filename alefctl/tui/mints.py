"""Mints: confirmed allocations whose on-chain mint failed, with the error; retry one or all."""

from __future__ import annotations

import uuid
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal
from alefctl.tui.widgets import fill_table, selected_key
from alefctl.workflows.offering import Allocation, list_allocations
from alefctl.workflows.onchain.minting import retry_failed


class MintsScreen(ConsoleScreen):
    """Failed allocation mints; a retry puts them back in the chain worker's queue."""

    MODE = "mints"
    READ_ACTION = "allocation.read"
    KEY_ACTIONS = {"retry_selected": "mint.retry", "retry_all": "mint.retry"}
    BINDINGS = [Binding("r", "retry_selected", "Retry mint"),
                Binding("R", "retry_all", "Retry all failed")]

    def __init__(self) -> None:
        super().__init__()
        self.failed_count = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Failed mints", id="mints-title", classes="title")
        table: DataTable[Any] = DataTable(id="mints-table", cursor_type="row")
        table.add_columns("allocation", "token", "investor", "quantity", "type", "confirmed", "error")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.read, list_allocations, on_chain_status="failed",
                      done=self.show_failed, group="load", exclusive=True)

    def show_failed(self, allocations: list[Allocation]) -> None:
        """Fill the table."""
        self.failed_count = len(allocations)
        self.query_one("#mints-title", Static).update(f"Failed mints · {len(allocations)}")
        fill_table(self.query_one("#mints-table", DataTable), (
            (str(a.id), (a.id, a.symbol, a.email, a.quantity, a.allocation_type, a.confirmed_at,
                         a.on_chain_error))
            for a in allocations))

    def action_retry_selected(self) -> None:
        allocation_id = selected_key(self.query_one("#mints-table", DataTable))
        if allocation_id is not None:
            self._retry([uuid.UUID(allocation_id)])

    def action_retry_all(self) -> None:
        if not self.failed_count:
            self.notify("No mint has failed: nothing to retry.")
            return
        self.confirm_then(ConfirmModal(f"Put all {self.failed_count} failed mints back in the"
                                       " queue?", "Retry all"), lambda _yes: self._retry(None))

    def _retry(self, allocation_ids: list[uuid.UUID] | None) -> None:
        self.run_call(self.services.call, retry_failed, allocation_ids,
                      done=lambda _count: self.reload(),
                      success=lambda count: f"{count} mints queued again for the chain worker")
