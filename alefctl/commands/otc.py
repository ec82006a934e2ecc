"""`alefctl otc`: the admins' queue of fixed-price OTC orders."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, emit_list, info, requires, state
from alefctl.commands.refs import resolved
from alefctl.workflows import policy

app = typer.Typer(help="OTC orders of fixed-price tokens: list, approve, reject.",
                  no_args_is_help=True)
OtcArg = Annotated[str, typer.Argument(help="OTC order id or id prefix.")]
COLUMNS = ("id", "symbol", "email", "side", "quantity", "price", "total", "status")


@app.command("list")
@command_errors
@requires("otc.read")
def list_(status: Annotated[str | None, typer.Option(help="Default: pending.")] = "pending",
          as_json: JsonOption = False) -> None:
    """OTC orders, oldest first."""
    from alefctl.workflows.otc import list_otc_orders

    with state.transaction() as (conn, actor):
        policy.require(actor, "otc.read")
        found = list_otc_orders(conn, status)
    emit_list("OTC orders", COLUMNS, found, as_json)


@app.command("approve")
@command_errors
@requires("otc.review")
def approve(otc: OtcArg, as_json: JsonOption = False) -> None:
    """Execute an OTC order against the treasury at the token's OTC price (admin)."""
    from alefctl.workflows.otc import approve_otc_order

    otc_id = resolved("otc order", otc)
    with state.transaction() as (conn, actor):
        done = approve_otc_order(conn, actor, otc_id)
    emit(done, as_json, lambda: info(f"OTC order executed as trade {done['trade_id']}"))


@app.command("reject")
@command_errors
@requires("otc.review")
def reject(otc: OtcArg, reason: Annotated[str, typer.Option(help="Why.")],
           as_json: JsonOption = False) -> None:
    """Reject an OTC order; its locked funds come back (admin)."""
    from alefctl.workflows.otc import reject_otc_order

    otc_id = resolved("otc order", otc)
    with state.transaction() as (conn, actor):
        done = reject_otc_order(conn, actor, otc_id, reason)
    emit(done, as_json, lambda: info("OTC order rejected; funds returned"))
