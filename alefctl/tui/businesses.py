"""Businesses: registrations awaiting approval (or all); approve, or reject with a reason."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.widgets import fill_table, selected_key, status_text
from alefctl.workflows.businesses import Business, list_businesses, review_business


class BusinessesScreen(ConsoleScreen):
    """Registered businesses, oldest first."""

    MODE = "businesses"
    READ_ACTION = "business.read"  # an issuer sees their own, read-only
    KEY_ACTIONS = {"approve": "business.review", "reject": "business.review"}
    BINDINGS = [Binding("a", "approve", "Approve"), Binding("r", "reject", "Reject"),
                Binding("f", "toggle_filter", "Pending/all")]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.names: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("", id="businesses-title", classes="title")
        table: DataTable[Any] = DataTable(id="businesses-table", cursor_type="row")
        table.add_columns("id", "registered", "company", "registration", "country", "industry",
                          "alef %", "status", "rejection reason")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.call, list_businesses, None if self.show_all else "pending",
                      done=self.show_businesses, group="load", exclusive=True)

    def show_businesses(self, businesses: list[Business]) -> None:
        """Fill the table."""
        scope = "all" if self.show_all else "awaiting approval"
        self.query_one("#businesses-title", Static).update(
            f"Businesses · {scope} · {len(businesses)}")
        self.names = {str(b.id): b.company_name for b in businesses}
        fill_table(self.query_one("#businesses-table", DataTable), (
            (str(b.id), (b.id, b.created_at, b.company_name, b.registration_number, b.country,
                         b.industry, b.alef_allocation_pct, status_text(b.status),
                         b.rejection_reason))
            for b in businesses))

    def action_toggle_filter(self) -> None:
        self.show_all = not self.show_all
        self.reload()

    def action_approve(self) -> None:
        business_id = self._selected()
        if business_id:
            self.confirm_then(ConfirmModal(f"Approve {self.names[business_id]}? It may then"
                                           " create tokens.", "Approve"),
                              lambda _yes: self._review(business_id, True, None))

    def action_reject(self) -> None:
        business_id = self._selected()
        if business_id:
            self.confirm_then(TextModal(f"Reject {self.names[business_id]}: the reason",
                                        confirm_label="Reject"),
                              lambda reason: self._review(business_id, False, reason))

    def _review(self, business_id: str, approve: bool, reason: str | None) -> None:
        self.run_call(self.services.call, review_business, business_id, approve=approve,
                      reason=reason, done=lambda _b: self.reload(),
                      success=lambda b: f"{b.company_name} is {b.status}")

    def _selected(self) -> str | None:
        return selected_key(self.query_one("#businesses-table", DataTable))
