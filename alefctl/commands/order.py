"""`alefctl order`: look at orders, and cancel one (its owner with --as, or an admin)."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    YesOption,
    command_errors,
    confirm,
    emit,
    emit_list,
    emit_object,
    info,
    requires,
    state,
)
from alefctl.commands.refs import resolved
from alefctl.workflows import policy

app = typer.Typer(help="Orders: list, show, cancel (reaches a running server).",
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
