"""`alefctl holder`: agent operations on holders: freeze, forced transfer, recovery, jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    emit_list,
    info,
    requires,
    state,
    stdout,
)
from alefctl.commands.refs import TokenArg, resolved

if TYPE_CHECKING:
    from alefctl.workflows.approvals import ApprovalRequest

app = typer.Typer(help="Holders: freeze, forced transfer, wallet recovery (agent operations).",
                  no_args_is_help=True)

UserArg = Annotated[str, typer.Argument(help="The holder: email or id.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")]
FromOpt = Annotated[str, typer.Option("--from", help="The holder (email or id).")]
QuantityOpt = Annotated[int | None, typer.Option(
    "--quantity", help="Tokens to freeze or release; without it, the whole wallet.")]
LIST_COLUMNS = ("email", "wallet", "balance", "locked", "frozen_quantity", "is_frozen", "sellable",
                "chain_balance", "chain_frozen", "chain_is_frozen", "matches")
OPERATION_COLUMNS = ("id", "kind", "symbol", "email", "to_email", "quantity", "chain_status",
                     "tx_hash", "chain_error", "created_at")


@app.command("freeze")
@command_errors
@requires("holder.freeze")
def freeze(token: TokenArg, user: UserArg, reason: ReasonOpt, quantity: QuantityOpt = None,
           as_json: JsonOption = False) -> None:
    """Freeze a holder's whole wallet of a token (no sell order accepted; open sell orders are
    cancelled), or --quantity N of its tokens (not sellable); in the database at once, then
    on-chain (setAddressFrozen / freezePartialTokens)."""
    from alefctl.workflows.holders.freezes import freeze as freeze_holder

    _changed(freeze_holder(state.engine(), state.actor(), resolved("token", token),
                           resolved("user", user), quantity, reason), as_json)


@app.command("unfreeze")
@command_errors
@requires("holder.freeze")
def unfreeze(token: TokenArg, user: UserArg, reason: ReasonOpt, quantity: QuantityOpt = None,
             as_json: JsonOption = False) -> None:
    """Clear a holder's wallet freeze, or release --quantity N frozen tokens; then on-chain."""
    from alefctl.workflows.holders.freezes import unfreeze as unfreeze_holder

    _changed(unfreeze_holder(state.engine(), state.actor(), resolved("token", token),
                             resolved("user", user), quantity, reason), as_json)


@app.command("list")
@command_errors
@requires("holder.read")
def list_(token: TokenArg, as_json: JsonOption = False) -> None:
    """Holders of a token: balance, locked in sell orders, frozen, sellable, and the chain's
    balance, frozen tokens and wallet freeze side by side (matches: all three agree)."""
    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.workflows.holders.listing import holder_positions, with_chain

    with state.transaction() as (conn, actor):
        found, holders = holder_positions(conn, actor, resolved("token", token))
    if found.contract_address is not None and holders:
        with open_chain(state.settings()) as client, chain_errors():
            with_chain(found, holders, client)
    else:
        with_chain(found, holders, None)  # type: ignore[arg-type]  # nothing on-chain to ask
    emit_list(f"holders of {found.symbol}", LIST_COLUMNS, holders, as_json)


@app.command("force-transfer")
@command_errors
@requires("holder.force_transfer")
def force_transfer(token: TokenArg,
                   from_user: FromOpt,
                   to_user: Annotated[str, typer.Option("--to", help="The receiver (email or id).")],
                   quantity: Annotated[int, typer.Option("--quantity", help="Tokens to move.")],
                   reason: ReasonOpt, as_json: JsonOption = False) -> None:
    """Request a forced transfer (court order, estate): another admin approves it, which moves
    the database positions and queues forcedTransfer on-chain."""
    from alefctl.workflows.holders.severe import request_forced_transfer

    token_id, sender, receiver = resolved("token", token), resolved("user", from_user), resolved(
        "user", to_user)
    with state.transaction() as (conn, actor):
        request = request_forced_transfer(conn, actor, token_id, sender, receiver, quantity, reason)
    needs_second_admin(request, as_json)


@app.command("recover")
@command_errors
@requires("holder.recover")
def recover(user: UserArg,
            new_wallet: Annotated[str, typer.Option("--new-wallet", help="The replacement wallet.")],
            reason: ReasonOpt, as_json: JsonOption = False) -> None:
    """Request the recovery of a lost wallet: another admin approves it; then every token's
    balance, frozen state and registration move to the new wallet (`alefctl chain work`), and
    the user's wallet address changes once all moved."""
    from alefctl.workflows.holders.recovery import request_recovery

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        request = request_recovery(conn, actor, user_id, new_wallet, reason)
    needs_second_admin(request, as_json)


@app.command("recoveries")
@command_errors
@requires("holder.read")
def recoveries(user: UserArg, as_json: JsonOption = False) -> None:
    """A holder's wallet recoveries, newest first, with each token's job."""
    from alefctl.workflows.holders.recovery import recovery_state

    user_id = resolved("user", user)
    with state.transaction() as (conn, actor):
        found = recovery_state(conn, actor, user_id)
    emit_list("wallet recoveries", ("id", "old_wallet", "new_wallet", "status", "created_at"),
              found, as_json)


@app.command("operations")
@command_errors
@requires("holder.read")
def operations(token: Annotated[str | None, typer.Option(help="Only this token.")] = None,
               status: Annotated[str | None, typer.Option(
                   help="Only this chain status: pending, sending, done, failed, skipped.")] = None,
               as_json: JsonOption = False) -> None:
    """Agent operations (freeze, unfreeze, forced_transfer, burn, recover) and their chain jobs,
    newest first."""
    from alefctl.workflows.holders.listing import list_operations

    token_id = None if token is None else resolved("token", token)
    with state.transaction() as (conn, actor):
        found = list_operations(conn, actor, token_id, status)
    emit_list("agent operations", OPERATION_COLUMNS, found, as_json)


@app.command("retry")
@command_errors
@requires("holder.retry")
def retry(operation: Annotated[str, typer.Argument(help="The failed operation's id.")],
          as_json: JsonOption = False) -> None:
    """Queue a failed operation's chain job again (after fixing its cause)."""
    from alefctl.workflows.holders.listing import retry_operation

    operation_id = resolved("agent operation", operation)
    with state.transaction() as (conn, actor):
        result = retry_operation(conn, actor, operation_id)
    emit(result, as_json, lambda: info(f"operation {result['operation_id']} queued again;"
                                       " `alefctl chain work --once` sends it"))


def _changed(result: dict[str, Any], as_json: bool) -> None:
    """After a freeze or unfreeze committed: send its chain job now if the chain answers."""
    if result["chain_status"] == "pending":
        result["chain_status"] = _send_now(result["operation_id"])
    position = result["position"]

    def render() -> None:
        what = "wallet" if result["quantity"] is None else f"{result['quantity']} tokens"
        done = "already so" if result["already"] else f"{result['kind']} {what}"
        info(f"{result['email']} {result['symbol']}: {done}; frozen {position['frozen_quantity']},"
             f" wallet frozen {position['is_frozen']}, chain {result['chain_status'] or '-'}"
             + (f"; cancelled {len(result.get('cancelled_orders', []))} sell orders"
                if result.get("cancelled_orders") else ""))

    emit(result, as_json, render)


def _send_now(operation_id: Any) -> str:
    """Send the operation's chain job now if the chain answers; its chain status after."""
    from alefctl.chain_access import open_chain
    from alefctl.workflows.holders.jobs import send_now

    settings = state.settings()
    operation, unreachable = send_now(state.engine(), lambda: open_chain(settings), state.actor(),
                                      operation_id)
    if unreachable is not None:
        info(f"{unreachable}; the chain job is queued: `alefctl chain work --once` sends it")
    if operation["chain_status"] == "failed":
        info(f"the chain refused it: {operation['chain_error']} (fix it, then"
             f" `alefctl holder retry {operation_id}`)")
    return str(operation["chain_status"])


def needs_second_admin(request: ApprovalRequest, as_json: bool) -> None:
    """A four-eyes request was recorded: its id is the data; say who must act next."""
    def render() -> None:
        stdout.print(str(request.id), highlight=False)
        info(f"{request.summary}: needs a second admin: alefctl approvals approve {request.id}")

    emit(request.to_dict(), as_json, render)
