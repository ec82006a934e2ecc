"""`alefctl offering`: administer a primary offering: cancel it, move its end, fail the ones
that ended below their soft cap (cron)."""

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
    info,
    job_result,
    parse_time,
    requires,
    state,
)
from alefctl.commands.refs import resolved

app = typer.Typer(help="Primary offerings: cancel, window, fail-due (soft cap).",
                  no_args_is_help=True)
TokenArg = Annotated[str, typer.Argument(help="Token symbol, id or id prefix.")]


@app.command("cancel")
@command_errors
@requires("offering.cancel")
def cancel(token: TokenArg, reason: Annotated[str, typer.Option(help="Why (told to investors).")],
           yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Cancel an offering in progress: every subscription refunded, minted tokens burned by
    `alefctl chain work`, investors notified (admin)."""
    from alefctl.workflows.offering_admin import cancel_offering

    token_id = resolved("token", token)
    confirm(f"Cancel the {token} offering and refund every subscription?", yes)
    with state.transaction() as (conn, actor):
        result = cancel_offering(conn, actor, token_id, reason)
    emit(result, as_json, lambda: info(
        f"{token} offering was already cancelled" if result["already_cancelled"] else
        f"{token} offering cancelled; {len(result['refunds'])} subscriptions refunded"
        f" ({result['refunded']} {result['token']['raise_currency']})"))


@app.command("window")
@command_errors
@requires("offering.window")
def window(token: TokenArg,
           ends_at: Annotated[str, typer.Option(help="New end of the offering (ISO-8601).")],
           as_json: JsonOption = False) -> None:
    """Extend or shorten an offering in progress (admin)."""
    from alefctl.workflows.offering_admin import set_offering_window

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        moved = set_offering_window(conn, actor, token_id, parse_time(ends_at, "ends_at"))
    emit(moved.to_dict(), as_json, lambda: info(
        f"{moved.symbol} offering now ends {moved.primary_end.isoformat() if moved.primary_end else '?'}"))


@app.command("fail-due")
@command_errors
@requires("offering.fail_due")
def fail_due(as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Cancel every offering that ended below its soft cap, refunding everyone (for cron; safe
    to run twice at once; `alefctl serve` does it too)."""
    from alefctl.workflows.offering_admin import fail_due_offerings

    failed, problems = fail_due_offerings(state.engine(), state.actor())
    symbols = [f["token"]["symbol"] for f in failed]
    job_result(symbols, as_json=as_json, quiet=quiet, problems=problems,
               render=lambda: info(f"failed {len(symbols)} offerings below their soft cap" + (
                   f": {', '.join(symbols)}" if symbols else "")))
