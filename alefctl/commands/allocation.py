"""`alefctl allocation`: token allocations, their payment and minting state."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, emit_list, info, requires, state
from alefctl.commands.refs import resolved, resolved_all, resolved_opt

app = typer.Typer(help="Allocations: list, reject, retry failed mints.", no_args_is_help=True)
COLUMNS = ("id", "symbol", "email", "quantity", "amount", "allocation_type", "status",
           "on_chain_status", "on_chain_error")


@app.command("list")
@command_errors
@requires("allocation.read")
def list_(
    token: Annotated[str | None, typer.Option(help="Token symbol or id.")] = None,
    status: Annotated[str | None, typer.Option(help="pending_payment, confirmed, rejected.")] = None,
    on_chain: Annotated[str | None, typer.Option(
        "--on-chain", help="pending, minting, minted, failed.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List allocations."""
    from alefctl.workflows.offering import list_allocations

    token_id = resolved_opt("token", token)
    with state.transaction() as (conn, _actor):
        found = list_allocations(conn, token_id, status, on_chain)
    emit_list("allocations", COLUMNS, found, as_json)


@app.command("reject")
@command_errors
@requires("allocation.reject")
def reject(allocation: Annotated[str, typer.Argument(help="Allocation id or id prefix.")],
           reason: Annotated[str, typer.Option(help="Why.")], as_json: JsonOption = False) -> None:
    """Reject a pending allocation and refund the investor in full (admin)."""
    from alefctl.workflows.offering import reject_allocation

    allocation_id = resolved("allocation", allocation)
    with state.transaction() as (conn, actor):
        rejected = reject_allocation(conn, actor, allocation_id, reason)
    emit(rejected.to_dict(), as_json,
         lambda: info(f"allocation rejected; {rejected.amount} USD refunded to {rejected.email}"))


@app.command("retry")
@command_errors
@requires("mint.retry")
def retry(allocation: Annotated[list[str] | None, typer.Argument(
              help="Allocation ids or id prefixes; none with --all-failed.")] = None,
          all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed mint.")] = False,
          as_json: JsonOption = False) -> None:
    """Queue failed mints again for `alefctl chain work` (admin)."""
    from alefctl.errors import InvalidInput
    from alefctl.workflows.onchain.minting import retry_failed

    if not allocation and not all_failed:
        raise InvalidInput("name allocation ids, or pass --all-failed")
    ids = None if all_failed else [uuid.UUID(a) for a in resolved_all("allocation", allocation or [])]
    with state.transaction() as (conn, actor):
        count = retry_failed(conn, actor, ids)
    emit({"requeued": count}, as_json, lambda: info(f"requeued {count} failed mints"))
