"""Inbox: the acting user's notifications and their role's, unread first; mark one or all read."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.widgets import fill_table, selected_key
from alefctl.workflows.account.pages import PageQuery
from alefctl.workflows.notifications import list_notifications, mark_read

SHOWN = 200


def inbox(conn, actor) -> list[dict[str, Any]]:  # noqa: ANN001 - the services' call shape
    """The latest notifications, unread first."""
    return list_notifications(conn, actor, PageQuery(SHOWN)).items


class InboxScreen(ConsoleScreen):
    """Notifications to you and your role (KYC waiting, businesses, approvals, failures, alerts)."""

    MODE = "inbox"
    READ_ACTION = "notification.read"
    KEY_ACTIONS = {"read_selected": "notification.read", "read_all": "notification.read"}
    BINDINGS = [Binding("r", "read_selected", "Mark read"),
                Binding("R", "read_all", "Mark all read")]

    def compose_body(self) -> ComposeResult:
        yield Static("Inbox", id="inbox-title", classes="title")
        table: DataTable[Any] = DataTable(id="inbox-table", cursor_type="row")
        table.add_columns("", "time (UTC)", "kind", "subject", "object")
        yield table

    def reload(self) -> None:
        self.run_call(self.services.call, inbox, done=self.show_notes, group="load",
                      exclusive=True)

    def show_notes(self, notes: list[dict[str, Any]]) -> None:
        """Fill the table; unread ones are marked with a dot."""
        unread = sum(1 for note in notes if not note["read"])
        self.query_one("#inbox-title", Static).update(f"Inbox · {unread} unread")
        fill_table(self.query_one("#inbox-table", DataTable), (
            (str(n["id"]), ("" if n["read"] else "●", n["created_at"], n["kind"], n["subject"],
                            n["object_type"] or "")) for n in notes))

    def action_read_selected(self) -> None:
        note_id = selected_key(self.query_one("#inbox-table", DataTable))
        if note_id is not None:
            self._mark([note_id], False)

    def action_read_all(self) -> None:
        self._mark([], True)

    def _mark(self, ids: list[str], everything: bool) -> None:
        self.run_call(self.services.call, mark_read, ids, everything,
                      done=lambda _result: self.reload(),
                      success=lambda result: f"{result['marked']} marked read;"
                                             f" {result['unread']} unread")
