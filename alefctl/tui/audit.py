"""Audit log: newest first, filtered by actor, action and object; enter shows a row's changes."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import TextViewModal
from alefctl.tui.widgets import fill_table
from alefctl.workflows import dashboard

FILTERS = (("actor", "actor email contains"), ("action", "action contains (e.g. kyc.)"),
           ("object", "object type or id contains"))


class AuditScreen(ConsoleScreen):
    """The append-only audit log; the filters apply as you type."""

    MODE = "audit"
    READ_ACTION = "audit.read"
    BINDINGS = [Binding("slash", "focus_filter", "Filter"), Binding("escape", "focus_table", "Table")]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, Any]] = {}

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            for name, placeholder in FILTERS:
                yield Input(placeholder=placeholder, id=f"filter-{name}")
        yield Static("Audit log", id="audit-title", classes="title")
        table: DataTable[Any] = DataTable(id="audit-table", cursor_type="row")
        table.add_columns("time (UTC)", "actor", "source", "action", "object", "object id", "after")
        yield table

    def on_mount(self) -> None:
        self.query_one("#audit-table", DataTable).focus()

    def reload(self) -> None:
        actor, action, object_ref = (self.query_one(f"#filter-{name}", Input).value
                                     for name, _ in FILTERS)
        self.run_call(self.services.read, dashboard.audit_log, actor, action, object_ref,
                      done=self.show_rows, group="load", exclusive=True)

    def on_input_changed(self) -> None:
        self.action_reload()

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        """Fill the table with the filtered rows."""
        self.rows = {str(r["id"]): r for r in rows}
        self.query_one("#audit-title", Static).update(f"Audit log · latest {len(rows)} matching")
        fill_table(self.query_one("#audit-table", DataTable), (
            (str(r["id"]), (r["created_at"], r["actor"], r["source"], r["action"], r["object_type"],
                            r["object_id"], _compact(r["after"])))
            for r in rows))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        row = self.rows.get(str(event.row_key.value))
        if row is not None:
            body = "\n".join(f"{key}: {_pretty(row[key])}" for key in (
                "created_at", "actor", "source", "action", "object_type", "object_id", "before",
                "after"))
            self.app.push_screen(TextViewModal(f"Audit {row['action']}", body))

    def action_focus_filter(self) -> None:
        self.query_one("#filter-actor", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one("#audit-table", DataTable).focus()


def _compact(value: Any) -> str:
    text = "" if value is None else json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= 80 else text[:79] + "…"


def _pretty(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, default=str)
    return str(value)
