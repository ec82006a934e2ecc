"""Surveillance: the compliance queue of alerts (acknowledge, dismiss, escalate, each with a note),
the highlighted alert's evidence (its orders and trades, with times), and circuit breakers still
tripped. The rules are workflows/surveillance.py's; this screen only asks and shows."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from alefctl.tui.base import ConsoleScreen
from alefctl.tui.modals import TextModal
from alefctl.tui.widgets import cell_text, fill_table, selected_key, short_id, status_text
from alefctl.workflows import dashboard, surveillance
from alefctl.workflows.surveillance import Alert
from alefctl.workflows.surveillance_evidence import Evidence
from alefctl.workflows.transitions import SURVEILLANCE_FLOW

VERBS = {"ack": ("acknowledge", "acknowledged"), "dismiss": ("dismiss", "dismissed"),
         "escalate": ("escalate", "escalated")}
DETAIL_FIELDS = (("detail", "detail"), ("status", "status"), ("suspect", "user"),
                 ("detected", "detected_at"), ("assignee", "assignee"),
                 ("acknowledged", "acknowledged_at"), ("resolved by", "resolved_by"),
                 ("resolved", "resolved_at"))


class SurveillanceScreen(ConsoleScreen):
    """Unresolved alerts, oldest first (f: every alert); the highlighted one in full below."""

    MODE = "surveillance"
    READ_ACTION = "surveillance.read"
    # not "dismiss": that is Screen's own action (closing a screen)
    KEY_ACTIONS = {"ack": "surveillance.triage", "dismiss_alert": "surveillance.triage",
                   "escalate": "surveillance.triage"}
    BINDINGS = [Binding("a", "ack", "Acknowledge"), Binding("d", "dismiss_alert", "Dismiss"),
                Binding("e", "escalate", "Escalate"), Binding("f", "toggle_filter", "Open/all")]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.alerts: dict[str, Alert] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("Surveillance alerts", id="alerts-title", classes="title")
        alerts: DataTable[Any] = DataTable(id="alerts-table", cursor_type="row")
        alerts.add_columns("alert", "detected", "token", "kind", "suspect", "status", "assignee")
        yield alerts
        yield Static("", id="alert-detail", classes="panel")
        yield Static("Circuit breakers tripped", id="breakers-title", classes="title")
        breakers: DataTable[Any] = DataTable(id="breakers-table", cursor_type="row")
        breakers.add_columns("event", "token", "reference", "trigger", "tripped", "resets")
        yield breakers

    def reload(self) -> None:
        statuses = surveillance.STATUSES if self.show_all else surveillance.UNRESOLVED
        self.run_call(self.services.call, surveillance.list_alerts, statuses,
                      done=self.show_alerts, group="load", exclusive=True)
        self.run_call(self.services.read, dashboard.tripped_breakers, done=self.show_breakers,
                      group="breakers", exclusive=True)

    def show_alerts(self, alerts: list[Alert]) -> None:
        """Fill the queue, then load the highlighted alert's evidence."""
        self.alerts = {str(a.id): a for a in alerts}
        scope = "every alert" if self.show_all else "unresolved"
        self.query_one("#alerts-title", Static).update(
            f"Surveillance alerts · {scope} · {len(alerts)} · a acknowledges, d dismisses,"
            " e escalates (with a note)")
        fill_table(self.query_one("#alerts-table", DataTable), (
            (str(a.id), (a.id, a.detected_at, a.token, a.kind, a.user, status_text(a.status),
                         a.assignee))
            for a in alerts))
        self.load_detail()

    def show_breakers(self, breakers: list[dict[str, Any]]) -> None:
        self.query_one("#breakers-title", Static).update(f"Circuit breakers tripped · {len(breakers)}")
        fill_table(self.query_one("#breakers-table", DataTable), (
            (str(b["id"]), (b["id"], b["symbol"], b["reference_price"], b["trigger_price"],
                            b["tripped_at"], b["resets_at"]))
            for b in breakers))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "alerts-table":
            self.load_detail()

    def load_detail(self) -> None:
        """Read the highlighted alert with its evidence (the orders and trades it names)."""
        alert = self._selected()
        if alert is None:
            panel = self.query_one("#alert-detail", Static)
            panel.update("No alert to review." if not self.show_all else "No alert.")
            panel.border_title = None
            return
        self.run_call(self.services.call, surveillance.get_alert, str(alert.id),
                      done=self.show_detail, group="detail", exclusive=True)

    def show_detail(self, alert: Alert) -> None:
        """The alert's fields and notes, then its orders and trades."""
        panel = self.query_one("#alert-detail", Static)
        panel.update(Group(_fields(alert), *_evidence_tables(alert)))
        panel.border_title = f"alert {short_id(alert.id)} · {alert.kind} · {alert.token}"

    def action_toggle_filter(self) -> None:
        self.show_all = not self.show_all
        self.action_reload()

    def action_ack(self) -> None:
        self._step("ack", required=False, placeholder="optional, e.g. checking with the broker")

    def action_dismiss_alert(self) -> None:
        self._step("dismiss", required=True, placeholder="e.g. market maker's hedging, not abuse")

    def action_escalate(self) -> None:
        self._step("escalate", required=True, placeholder="e.g. repeated pattern, to compliance")

    def _step(self, verb: str, *, required: bool, placeholder: str) -> None:
        """Ask for the note (the reason, for dismiss and escalate), then take the step."""
        alert = self._actionable(verb)
        if alert is None:
            return
        infinitive, past = VERBS[verb]
        workflow = getattr(surveillance, infinitive)
        question = (f"{infinitive.capitalize()} the {alert.kind} alert on {alert.token}"
                    f" ({alert.user or 'no user'}): {'the reason' if required else 'a note'}")

        def run(note: str) -> None:
            if required:  # the reason, a positional argument of dismiss and escalate
                self.run_call(self.services.call, workflow, str(alert.id), note,
                              always=self.action_reload, success=f"alert {past}")
            else:
                self.run_call(self.services.call, workflow, str(alert.id),
                              note=note.strip() or None, always=self.action_reload,
                              success=f"alert {past}")

        self.confirm_then(TextModal(question, required=required, placeholder=placeholder,
                                    confirm_label=infinitive.capitalize()),
                          run)

    def _actionable(self, verb: str) -> Alert | None:
        """The highlighted alert if the step applies to it; else say why not."""
        alert = self._selected()
        if alert is None:
            self.notify("No alert is highlighted.")
            return None
        allowed = SURVEILLANCE_FLOW[VERBS[verb][0]][0]
        if alert.status not in allowed:
            self.notify(f"This alert is {alert.status}: it cannot be {VERBS[verb][1]}.")
            return None
        return alert

    def _selected(self) -> Alert | None:
        alert_id = selected_key(self.query_one("#alerts-table", DataTable))
        return self.alerts.get(alert_id) if alert_id else None


def _fields(alert: Alert) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, name in DETAIL_FIELDS:
        value = getattr(alert, name)
        if value not in (None, ""):
            grid.add_row(label, cell_text(value))
    for note in alert.notes:
        grid.add_row("note", f"{note['at'][:19].replace('T', ' ')} {note['by']} ({note['action']}):"
                             f" {note['text']}")
    return grid


def _evidence_tables(alert: Alert) -> list[Table]:
    """The orders and the trades of the evidence, each with its times."""
    evidence: Evidence = alert.evidence or {"detail": "", "orders": [], "trades": []}
    orders = Table(title="orders", title_justify="left", box=None, padding=(0, 1))
    for column in ("order", "user", "side", "type", "price", "qty", "filled", "status", "placed",
                   "last change"):
        orders.add_column(column)
    for o in evidence["orders"]:
        orders.add_row(*(cell_text(v) for v in (
            short_id(o["id"]), o["user"], o["side"], o["order_type"], o["price"], o["quantity"],
            o["filled_quantity"], o["cancel_reason"] and f"{o['status']} ({o['cancel_reason']})"
            or o["status"], o["placed_at"], o["last_change_at"])))
    trades = Table(title="trades", title_justify="left", box=None, padding=(0, 1))
    for column in ("trade", "buyer", "seller", "taker", "price", "qty", "settlement", "traded"):
        trades.add_column(column)
    for t in evidence["trades"]:
        trades.add_row(*(cell_text(v) for v in (
            short_id(t["id"]), t["buyer"], t["seller"], t["taker_side"], t["price"],
            t["quantity"], t["settlement_status"], t["traded_at"])))
    return [orders, trades]
