"""`alefctl surveillance`: work the alerts market surveillance raised (wash trading, spoofing,
layering): acknowledge, then dismiss or escalate with a reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    emit_list,
    info,
    requires,
    state,
    table,
)
from alefctl.commands.refs import resolved, resolved_opt

if TYPE_CHECKING:
    from alefctl.workflows.surveillance import Alert

app = typer.Typer(help="Surveillance alerts: the compliance queue (admin).", no_args_is_help=True)
AlertArg = Annotated[str, typer.Argument(help="Alert id, id prefix or the console's 12-digit tail.")]
NoteOption = Annotated[str | None, typer.Option(help="A note kept with the alert.")]
ReasonOption = Annotated[str, typer.Option(help="Why; kept with the alert and in the audit log.")]
COLUMNS = ("id", "status", "token", "kind", "user", "detected_at", "assignee")


@app.command("list")
@command_errors
@requires("surveillance.read")
def list_(status: Annotated[str, typer.Option(
              help="open, acknowledged, dismissed, escalated, unresolved (open or acknowledged)"
                   " or all.")] = "unresolved",
          token: Annotated[str | None, typer.Option(help="Only this token (symbol or id).")] = None,
          kind: Annotated[str | None, typer.Option(
              help="Only this kind: wash_trading, spoofing or layering.")] = None,
          assignee: Annotated[str | None, typer.Option(help="Only alerts assigned to this user.")] = None,
          as_json: JsonOption = False) -> None:
    """Alerts, oldest first (admin)."""
    from alefctl.workflows.surveillance import STATUSES, UNRESOLVED, list_alerts

    statuses = {"unresolved": UNRESOLVED, "all": STATUSES}.get(status, (status,))
    token_id, assignee_id = resolved_opt("token", token), resolved_opt("user", assignee)
    with state.transaction() as (conn, actor):
        found = list_alerts(conn, actor, statuses, token_id=token_id, kind=kind,
                            assignee_id=assignee_id)
    emit_list("surveillance alerts", COLUMNS, found, as_json)


@app.command("show")
@command_errors
@requires("surveillance.read")
def show(alert: AlertArg, as_json: JsonOption = False) -> None:
    """One alert: where it stands, its notes, and its evidence (the orders and trades involved,
    with their times) (admin)."""
    from alefctl.workflows.surveillance import get_alert

    alert_id = resolved("alert", alert)
    with state.transaction() as (conn, actor):
        found = get_alert(conn, actor, alert_id)
    emit(found.to_dict(), as_json, lambda: _render(found))


@app.command("ack")
@command_errors
@requires("surveillance.triage")
def ack(alert: AlertArg, assignee: Annotated[str | None, typer.Option(
            help="Assign it to this admin (email or id); default: yourself.")] = None,
        note: NoteOption = None, as_json: JsonOption = False) -> None:
    """Acknowledge an open alert: it is under review by its assignee (admin)."""
    from alefctl.workflows.surveillance import acknowledge

    assignee_id, alert_id = resolved_opt("user", assignee), resolved("alert", alert)
    with state.transaction() as (conn, actor):
        done = acknowledge(conn, actor, alert_id, assignee_id=assignee_id, note=note)
    emit(done.to_dict(), as_json, lambda: info(
        f"alert {done.id} acknowledged, assigned to {done.assignee}"))


@app.command("dismiss")
@command_errors
@requires("surveillance.triage")
def dismiss(alert: AlertArg, reason: ReasonOption, as_json: JsonOption = False) -> None:
    """Close an alert as no abuse (admin)."""
    _resolve(alert, reason, as_json, "dismiss")


@app.command("escalate")
@command_errors
@requires("surveillance.triage")
def escalate(alert: AlertArg, reason: ReasonOption, as_json: JsonOption = False) -> None:
    """Close an alert as needing action beyond the platform: compliance, the regulator (admin)."""
    _resolve(alert, reason, as_json, "escalate")


def _resolve(alert: str, reason: str, as_json: bool, verb: str) -> None:
    from alefctl.workflows import surveillance

    alert_id = resolved("alert", alert)
    with state.transaction() as (conn, actor):
        done = getattr(surveillance, verb)(conn, actor, alert_id, reason)
    emit(done.to_dict(), as_json, lambda: info(f"alert {done.id} {done.status}: {reason}"))


def _render(found: Alert) -> None:
    """The alert's fields, its notes, then its orders and trades as tables."""
    data = found.to_dict()
    evidence, notes = data.pop("evidence"), data.pop("notes")
    data.pop("token_id")
    table(f"alert {found.id}", ("field", "value"), list(data.items()))
    if notes:
        table("notes", ("at", "by", "action", "text"),
              [[n["at"], n["by"], n["action"], n["text"]] for n in notes])
    table("orders", ORDER_COLUMNS, [[o[c] for c in ORDER_COLUMNS] for o in evidence["orders"]])
    table("trades", TRADE_COLUMNS, [[t[c] for c in TRADE_COLUMNS] for t in evidence["trades"]])


ORDER_COLUMNS = ("id", "user", "side", "order_type", "price", "quantity", "filled_quantity",
                 "status", "cancel_reason", "placed_at", "last_change_at")
TRADE_COLUMNS = ("id", "buyer", "seller", "taker_side", "price", "quantity", "settlement_status",
                 "traded_at")
