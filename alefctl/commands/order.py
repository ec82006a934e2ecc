"""`alefctl order`: look at orders, cancel or amend one (cancel: its owner or an admin; amend:
its owner), and expire what is due (cron)."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    YesOption,
    command_errors,
    confirm,
    emit,
    emit_list,
    emit_object,
    info,
    job_result,
    requires,
    state,
)
from alefctl.commands.refs import resolved
from alefctl.workflows import policy

app = typer.Typer(help="Orders: list, show, cancel, amend (reach a running server); expire.",
                  no_args_is_help=True)
OrderArg = Annotated[str, typer.Argument(help="Order id or id prefix.")]
COLUMNS = ("id", "symbol", "side", "order_type", "price", "quantity", "filled_quantity", "status")


@app.command("list")
@command_errors
@requires("order.read")
def list_(token: Annotated[str | None, typer.Option(help="Token symbol.")] = None,
          status: Annotated[str | None, typer.Option(help="Order status.")] = None,
          as_json: JsonOption = False) -> None:
    """The acting user's orders (use --as EMAIL), newest first."""
    from alefctl.workflows.orders import list_orders

    with state.transaction() as (conn, actor):
        found = list_orders(conn, actor, status=status, token=token)
    emit_list("orders", COLUMNS, found, as_json)


@app.command("show")
@command_errors
@requires("order.read")
def show(order: OrderArg, as_json: JsonOption = False) -> None:
    """One order (admins: any order)."""
    from alefctl.workflows.orders import get_order

    order = resolved("order", order)
    with state.transaction() as (conn, actor):
        owner = None if policy.may(actor, "order.read.others") else actor.user_id
        found = get_order(conn, order, owner=owner)
    emit_object(f"order {order}", found, as_json)


@app.command("cancel")
@command_errors
@requires("order.cancel")
def cancel(order: OrderArg, yes: YesOption = False,
           as_json: JsonOption = False) -> None:
    """Cancel an open order; its funds come back. Goes through the server when one runs."""
    from alefctl.ids import parse_id
    from alefctl.workflows.trading.control import cancel_orders
    from alefctl.workflows.trading.funds import NotionalLimits

    order = resolved("order", order)
    confirm(f"Cancel order {order}?", yes)
    limits = NotionalLimits.from_settings(state.settings().trading)
    done = cancel_orders(state.engine(), state.actor(), [parse_id(order, field="order")], limits)
    emit(done, as_json, lambda: info(f"order {order} cancelled"))


@app.command("amend")
@command_errors
@requires("order.amend")
def amend(order: OrderArg,
          quantity: Annotated[int | None, typer.Option(
              help="New total quantity (filled part included); only lower.")] = None,
          price: Annotated[str | None, typer.Option(help="New limit price, USD.")] = None,
          confirm_fat_finger: Annotated[bool, typer.Option(
              help="Place a price far from the last trade anyway.")] = False,
          as_json: JsonOption = False) -> None:
    """Amend your open limit order: quantity down keeps its priority, a new price loses it."""
    from alefctl.workflows.orders import parse_price
    from alefctl.workflows.trading.amend_control import amend_order
    from alefctl.workflows.trading.commands import AmendOrder
    from alefctl.workflows.trading.funds import NotionalLimits

    order = resolved("order", order)
    settings = state.settings()
    limits = NotionalLimits.from_settings(settings.trading, settings.lifetime)
    command = AmendOrder(state.actor(), order, quantity, parse_price(price),
                         confirm_fat_finger=confirm_fat_finger)
    done = amend_order(state.engine(), command, limits)
    emit(done, as_json, lambda: info(f"order {order} amended: {done['quantity']} at"
                                     f" {done['price']} ({done['status']})"))


@app.command("expire")
@command_errors
@requires("order.expire")
def expire(as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Expire due GTD and DAY orders and fire lapsed cancel-all-after switches (for cron; a
    running server does it itself, and this waits for it; safe to run twice at once)."""
    from alefctl.workflows.trading.expiry import run_expiry

    report = run_expiry(state.engine(), state.actor())
    job_result(report, as_json=as_json, quiet=quiet, problems=[], render=lambda: info(
        f"expired {report['expired']} orders; {report['switches_fired']} switches fired,"
        f" {report['switched_off']} orders cancelled"
        + (" (by the running server)" if report["by_server"] else "")))
