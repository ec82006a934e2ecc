"""`alefctl approvals`: four-eyes requests that wait for a second admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    emit_list,
    fields,
    info,
    requires,
    state,
)
from alefctl.commands.refs import resolved

if TYPE_CHECKING:
    from alefctl.workflows.approvals import ApprovalRequest

app = typer.Typer(help="Four-eyes: severe operations that another admin approves or rejects.",
                  no_args_is_help=True)
RequestArg = Annotated[str, typer.Argument(help="Approval request id or id prefix.")]
COLUMNS = ("id", "status", "kind", "summary", "requested_by", "requested_at", "decided_by")


@app.command("list")
@command_errors
@requires("approval.read")
def list_(status: Annotated[str | None, typer.Option(
              help="Only this status: pending, approved, rejected, executed or failed.")] = None,
          as_json: JsonOption = False) -> None:
    """Approval requests, newest first (admin)."""
    from alefctl.workflows.approvals import list_requests

    with state.transaction() as (conn, actor):
        found = list_requests(conn, actor, status)
    emit_list("approval requests", COLUMNS, found, as_json)


@app.command("show")
@command_errors
@requires("approval.read")
def show(request: RequestArg, as_json: JsonOption = False) -> None:
    """One request: its operation and parameters, the decision and the result (admin)."""
    from alefctl.workflows.approvals import get_request

    request_id = resolved("approval request", request)
    with state.transaction() as (conn, actor):
        found = get_request(conn, actor, request_id)
    emit(found.to_dict(), as_json, lambda: fields(f"approval request {found.id}", _flat(found)))


@app.command("approve")
@command_errors
@requires("approval.approve")
def approve(request: RequestArg, as_json: JsonOption = False) -> None:
    """Approve another admin's request; its operation runs at once, exactly once (admin; not
    the requester)."""
    from alefctl.workflows.approvals import approve as approve_request

    request_id = resolved("approval request", request)
    done = approve_request(state.engine(), state.actor(), request_id)
    emit(done.to_dict(), as_json, lambda: info(
        f"approval request {done.id} approved and executed: {done.summary}"))


@app.command("reject")
@command_errors
@requires("approval.reject")
def reject(request: RequestArg, reason: Annotated[str, typer.Option(help="Why it is turned down.")],
           as_json: JsonOption = False) -> None:
    """Turn a request down with a reason; nothing runs (admin; the requester may withdraw
    their own)."""
    from alefctl.workflows.approvals import reject as reject_request

    request_id = resolved("approval request", request)
    with state.transaction() as (conn, actor):
        done = reject_request(conn, actor, request_id, reason)
    emit(done.to_dict(), as_json, lambda: info(
        f"approval request {done.id} rejected: {done.summary}"))


def _flat(found: ApprovalRequest) -> dict[str, Any]:
    """The request as field rows, its parameters and result one row each."""
    data = found.to_dict()
    data.pop("requested_by_id")
    params, result = data.pop("params"), data.pop("result")
    data.update({f"params.{k}": v for k, v in params.items()})
    data.update({f"result.{k}": v for k, v in (result or {}).items()})
    return data
