"""Surveillance: open alerts and circuit breakers still tripped (read-only for now)."""

from __future__ import annotations

import json
from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.widgets import fill_table
from alefctl.workflows import dashboard


class SurveillanceScreen(ConsoleScreen):
    """What market surveillance raised; no workflow resolves alerts yet, so nothing to act on."""

    MODE = "surveillance"
    READ_ACTION = "order.read.others"  # alerts name users and their orders

    def compose_body(self) -> ComposeResult:
        yield Static("Open surveillance alerts", id="alerts-title", classes="title")
        alerts: DataTable[Any] = DataTable(id="alerts-table", cursor_type="row")
        alerts.add_columns("alert", "token", "kind", "user", "raised", "evidence")
        yield alerts
        yield Static("Circuit breakers tripped", id="breakers-title", classes="title")
        breakers: DataTable[Any] = DataTable(id="breakers-table", cursor_type="row")
        breakers.add_columns("event", "token", "reference", "trigger", "tripped", "resets")
        yield breakers

    def reload(self) -> None:
        self.run_call(self.services.read, dashboard.surveillance, done=self.show_events,
                      group="load", exclusive=True)

    def show_events(self, events: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
        """Fill both tables."""
        alerts, breakers = events
        self.query_one("#alerts-title", Static).update(f"Open surveillance alerts · {len(alerts)}")
        self.query_one("#breakers-title", Static).update(f"Circuit breakers tripped · {len(breakers)}")
        fill_table(self.query_one("#alerts-table", DataTable), (
            (str(a["id"]), (a["id"], a["symbol"], a["kind"], a["email"], a["created_at"],
                            json.dumps(a["evidence"], default=str)[:100]))
            for a in alerts))
        fill_table(self.query_one("#breakers-table", DataTable), (
            (str(b["id"]), (b["id"], b["symbol"], b["reference_price"], b["trigger_price"],
                            b["tripped_at"], b["resets_at"]))
            for b in breakers))
