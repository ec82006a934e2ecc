"""Four-eyes approvals: severe operations waiting for a second admin; approve (runs it) or reject.

Generic over the operations workflows/approvals.py registers: a request shows its kind, the
summary its operation wrote, and an amount when its parameters carry one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.widgets import cell_text, fill_table, selected_key, short_id, status_text
from alefctl.workflows.approvals import OPEN_STATUSES, ApprovalRequest

DETAIL_FIELDS = (("operation", "kind"), ("summary", "summary"), ("status", "status"),
                 ("requested by", "requested_by"), ("requested at", "requested_at"),
                 ("decided by", "decided_by"), ("decided at", "decided_at"),
                 ("reason", "reason"), ("error", "error"), ("executed at", "executed_at"))


class ApprovalsScreen(ConsoleScreen):
    """Requests awaiting a second admin, oldest first; the highlighted one in full below."""

    MODE = "approvals"
    READ_ACTION = "approval.read"
    KEY_ACTIONS = {"approve": "approval.approve", "reject": "approval.reject"}
    BINDINGS = [Binding("a", "approve", "Approve"), Binding("r", "reject", "Reject"),
                Binding("f", "toggle_filter", "Open/all")]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.requests: dict[str, ApprovalRequest] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("Four-eyes requests", id="approvals-title", classes="title")
        table: DataTable[Any] = DataTable(id="approvals-table", cursor_type="row")
        table.add_columns("id", "requested", "age", "operation", "amount", "requester", "status",
                          "summary")
        yield table
        yield Static("", id="approval-detail", classes="panel")

    def reload(self) -> None:
        self.run_call(self.services.approvals_queue, self.show_all, done=self.show_requests,
                      group="load", exclusive=True)

    def show_requests(self, requests: list[ApprovalRequest]) -> None:
        """Fill the table, then the highlighted request's details."""
        self.requests = {str(r.id): r for r in requests}
        scope = "latest of every status" if self.show_all else "awaiting a second admin"
        self.query_one("#approvals-title", Static).update(
            f"Four-eyes requests · {scope} · {len(requests)} · a approves (runs it once),"
            " r rejects with a reason")
        now = datetime.now(UTC)
        fill_table(self.query_one("#approvals-table", DataTable), (
            (str(r.id), (r.id, r.requested_at, age(r.requested_at, now), r.kind,
                         r.params.get("amount"), r.requested_by, status_text(r.status), r.summary))
            for r in requests))
        self.show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """Every field of the highlighted request, its parameters and result."""
        panel = self.query_one("#approval-detail", Static)
        request = self._selected()
        if request is None:
            panel.update("No request awaits a second admin." if not self.show_all else "No request.")
            panel.border_title = None
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        for label, name in DETAIL_FIELDS:
            value = getattr(request, name)
            if value is not None:
                grid.add_row(label, cell_text(value))
        grid.add_row("parameters", _compact(request.params))
        if request.result is not None:
            grid.add_row("result", _compact(request.result))
        panel.update(grid)
        panel.border_title = f"request {short_id(request.id)}"

    def action_toggle_filter(self) -> None:
        self.show_all = not self.show_all
        self.action_reload()

    def action_approve(self) -> None:
        request = self._decidable()
        if request is None:
            return
        if self.actor is not None and request.requested_by_id == self.actor.user_id:
            self.notify("You requested this, so another admin must approve it (four-eyes). You may"
                        " reject (withdraw) it with r.", title="Four-eyes", severity="warning",
                        timeout=10)
            return
        waited = age(request.requested_at, datetime.now(UTC))
        self.confirm_then(ConfirmModal(
            f"Approve and run now: {request.summary}?\n\nRequested by {request.requested_by}"
            f" {waited} ago. It runs once, as you. If it is refused now (say, the balance no longer"
            " covers it), the request is marked failed: approve it again later, or reject it.",
            "Approve"),
            lambda _yes: self.run_call(
                self.services.approve_request, str(request.id), always=self.action_reload,
                success=lambda done: f"approved and executed: {done.summary}"))

    def action_reject(self) -> None:
        request = self._decidable()
        if request is None:
            return
        self.confirm_then(TextModal(f"Reject {request.summary}: the reason (nothing runs)",
                                    placeholder="e.g. not confirmed with the client",
                                    confirm_label="Reject"),
                          lambda reason: self.run_call(
                              self.services.reject_request, str(request.id), reason,
                              always=self.action_reload,
                              success=lambda done: f"rejected: {done.summary}"))

    def _decidable(self) -> ApprovalRequest | None:
        """The highlighted request if it still awaits a decision; else say why not."""
        request = self._selected()
        if request is None:
            self.notify("No request is highlighted.")
            return None
        if request.status not in OPEN_STATUSES:
            by = f" by {request.decided_by}" if request.decided_by else ""
            self.notify(f"This request is already {request.status}{by}: nothing to decide.")
            return None
        return request

    def _selected(self) -> ApprovalRequest | None:
        request_id = selected_key(self.query_one("#approvals-table", DataTable))
        return self.requests.get(request_id) if request_id else None


def age(moment: datetime, now: datetime) -> str:
    """How long ago, to the minute: `45 min`, `2 h 5 min`, `3 d 4 h`."""
    minutes = max(0, int((now - moment).total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(", ", ": "), default=str)
