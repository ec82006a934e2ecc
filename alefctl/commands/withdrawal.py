"""`alefctl withdrawal`: the admins' queue of investors' withdrawal requests."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, emit_list, info, requires, state
from alefctl.commands.refs import resolved

app = typer.Typer(help="Investors' withdrawal requests: list, confirm (pay out), reject.",
                  no_args_is_help=True)
WithdrawalArg = Annotated[str, typer.Argument(help="Withdrawal request id or id prefix.")]
COLUMNS = ("id", "email", "amount", "currency", "reference", "status", "created_at")


@app.command("list")
@command_errors
@requires("withdrawal.review")
def list_(status: Annotated[str | None, typer.Option(
        help="pending (default), awaiting_approval, completed, rejected or cancelled.")] = "pending",
          as_json: JsonOption = False) -> None:
    """Withdrawal requests, oldest first (admin)."""
    from alefctl.workflows.account.withdrawals import list_withdrawals

    with state.transaction() as (conn, actor):
        found = list_withdrawals(conn, actor, status)
    emit_list("withdrawal requests", COLUMNS, found, as_json)


@app.command("confirm")
@command_errors
@requires("withdrawal.review")
def confirm(withdrawal: WithdrawalArg, as_json: JsonOption = False) -> None:
    """Pay a request out (admin); at or above approvals.money_threshold_usd it becomes a
    request that another admin approves (`alefctl approvals approve`)."""
    from alefctl.workflows.account.withdrawals import confirm_withdrawal

    withdrawal_id = resolved("withdrawal", withdrawal)
    threshold = state.settings().approvals.money_threshold_usd
    with state.transaction() as (conn, actor):
        done = confirm_withdrawal(conn, actor, withdrawal_id, threshold=threshold)
    message = (f"withdrawal {done['id']} paid out: {done['amount']} {done['currency']} to"
               f" {done['email']}"
               if done["status"] == "completed" else
               f"withdrawal {done['id']} needs a second admin: approval request"
               f" {done['approval_request_id']}")
    emit(done, as_json, lambda: info(message))


@app.command("reject")
@command_errors
@requires("withdrawal.review")
def reject(withdrawal: WithdrawalArg, reason: Annotated[str, typer.Option(help="Why.")],
           as_json: JsonOption = False) -> None:
    """Turn a request down; the held money comes back to the investor (admin)."""
    from alefctl.workflows.account.withdrawals import reject_withdrawal

    withdrawal_id = resolved("withdrawal", withdrawal)
    with state.transaction() as (conn, actor):
        done = reject_withdrawal(conn, actor, withdrawal_id, reason)
    emit(done, as_json, lambda: info(f"withdrawal {done['id']} rejected; money returned"))
