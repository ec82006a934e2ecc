"""KYC: the review queue (oldest submission first) and an application's review."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ChoiceModal, TextModal
from alefctl.tui.widgets import cell_text, fill_table, status_text
from alefctl.workflows.kyc import KycApplication, list_kyc, review_kyc

OPEN_STATUSES = ("pending", "in_review")
LEVELS = (("1", "Level 1: retail"), ("2", "Level 2: professional"), ("3", "Level 3: institutional"))
DETAIL_FIELDS = ("email", "status", "full_name", "nationality", "date_of_birth", "document_type",
                 "document_number", "submitted_at", "kyc_level", "reviewed_at", "review_notes",
                 "rejection_reason")


class KycQueueScreen(ConsoleScreen):
    """Applications by submission time; enter opens one (which starts its review)."""

    MODE = "kyc"
    READ_ACTION = "kyc.review"
    BINDINGS = [Binding("f", "toggle_filter", "Open/all")]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="kyc-title", classes="title")
        table: DataTable[Any] = DataTable(id="kyc-table", cursor_type="row")
        table.add_columns("id", "submitted", "email", "name", "nationality", "document", "status")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.call, list_kyc, done=self.show_queue, group="load",
                      exclusive=True)

    def show_queue(self, applications: list[KycApplication]) -> None:
        """Fill the table with the open (or all) applications."""
        shown = [a for a in applications if self.show_all or a.status in OPEN_STATUSES]
        scope = "all applications" if self.show_all else "awaiting review"
        self.query_one("#kyc-title", Static).update(
            f"KYC queue · {scope} · {len(shown)} · enter reviews (and moves it to in_review)")
        fill_table(self.query_one("#kyc-table", DataTable), (
            (str(a.id), (a.id, a.submitted_at, a.email, a.full_name, a.nationality,
                         f"{a.document_type} {a.document_number}", status_text(a.status)))
            for a in shown))

    def action_toggle_filter(self) -> None:
        self.show_all = not self.show_all
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(KycReviewScreen(str(event.row_key.value)))


class KycReviewScreen(ConsoleScreen):
    """One application with its personal data: approve with a level, or reject with a reason."""

    MODE = "kyc"
    READ_ACTION = "kyc.review"
    BINDINGS = [Binding("a", "approve", "Approve"), Binding("r", "reject", "Reject"),
                Binding("escape", "back", "Back")]

    def __init__(self, application_id: str):
        super().__init__()
        self.application_id = application_id
        self.application: KycApplication | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("Opening the application…", id="kyc-detail", classes="panel")

    def reload(self) -> None:
        self.run_call(self.services.open_kyc, self.application_id, done=self.show_application,
                      group="load", exclusive=True)

    def show_application(self, application: KycApplication) -> None:
        """Every field of the application, the document number in clear."""
        self.application = application
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for name in DETAIL_FIELDS:
            grid.add_row(name.replace("_", " "), cell_text(getattr(application, name)))
        self.query_one("#kyc-detail", Static).update(grid)

    def action_approve(self) -> None:
        self.confirm_then(ChoiceModal("Approve at which KYC level?", LEVELS, highlighted=1),
                          self._approve)

    def _approve(self, level: str) -> None:
        self.run_call(self.services.call, review_kyc, self.application_id, approve=True,
                      kyc_level=int(level), done=self._reviewed,
                      success=lambda a: f"KYC of {a.email} approved at level {a.kyc_level}")

    def action_reject(self) -> None:
        self.confirm_then(TextModal("Reject: the reason (shown to the applicant)",
                                    placeholder="e.g. document unreadable", confirm_label="Reject"),
                          self._reject)

    def _reject(self, reason: str) -> None:
        self.run_call(self.services.call, review_kyc, self.application_id, approve=False,
                      reason=reason, done=self._reviewed,
                      success=lambda a: f"KYC of {a.email} rejected")

    def _reviewed(self, _application: Any) -> None:
        self.app.pop_screen()

    def action_back(self) -> None:
        self.app.pop_screen()
