"""`alefctl chain`: the node, balances, and the on-chain job worker for cron."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    command_errors,
    emit,
    fields,
    info,
    job_result,
    requires,
    state,
)
from alefctl.commands.refs import resolved

app = typer.Typer(help="Chain: status, local anvil node, balances, on-chain jobs.",
                  no_args_is_help=True)


@app.command("status")
@command_errors
@requires("chain.status")
def status(as_json: JsonOption = False) -> None:
    """Chain id, latest block, signer and its balance."""
    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.redact import mask_secrets

    settings = state.settings()
    with open_chain(settings) as client, chain_errors():
        node = mask_secrets(settings.chain.rpc_url) if settings.chain.rpc_url else None
        data = {"node": node or f"embedded ({settings.chain_dir})",
                "chain_id": client.chain_id, "block": client.block_number(),
                "signer": client.signer_address, "signer_balance_wei": client.native_balance()}
    emit(data, as_json, lambda: fields("chain", data))


@app.command("balance")
@command_errors
@requires("chain.balance")
def balance(token: Annotated[str, typer.Option(help="Token symbol or id.")],
            wallet: Annotated[str, typer.Option(help="Wallet address.")],
            as_json: JsonOption = False) -> None:
    """A wallet's on-chain balance of a token, next to the database's."""
    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.workflows.onchain.views import wallet_positions

    token_id = resolved("token", token)
    with state.transaction() as (conn, _actor):
        positions = wallet_positions(conn, token_id, wallet)
    with open_chain(state.settings()) as client, chain_errors():
        data = positions.with_chain(client)
    emit(data, as_json, lambda: fields(f"{data['symbol']} {data['wallet']}", data))


@app.command("work")
@command_errors
@requires("chain.work")
def work(once: Annotated[bool, typer.Option("--once", help="One pass, then exit (cron).")] = False,
         interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 5.0,
         as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Run the on-chain jobs: identity registration and minting of confirmed allocations and
    token dividends; burning the tokens of refunded allocations (a cancelled offering); tokens'
    on-chain state (pause, compliance rules) brought to the database's; agent operations
    (freeze, forced transfer, burn, wallet recovery).

    Exit code 0 when the pass ran and no job failed; 1 when a job failed (naming each; fix the
    cause, then `alefctl allocation retry`); 6 when the database or chain is unreachable.
    Without --once the loop never exits for failed jobs.
    """
    import time

    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.workflows.holders.jobs import run_agent_jobs
    from alefctl.workflows.onchain.burning import run_burn_jobs
    from alefctl.workflows.onchain.minting import run_mint_jobs
    from alefctl.workflows.onchain.token_state import run_token_state_jobs

    with open_chain(state.settings()) as client:
        while True:
            report = run_mint_jobs(state.engine(), client, actor=state.actor())
            burns = run_burn_jobs(state.engine(), client)
            states = run_token_state_jobs(state.engine(), client, actor=state.actor())
            with chain_errors():
                agents = run_agent_jobs(state.engine(), client, actor=state.actor())
            summary = ("another worker is running; nothing done" if report.busy else
                       f"minted {report.minted}, failed {report.failed},"
                       f" in flight {report.in_flight}, requeued {report.requeued},"
                       f" burned {burns.burned}")
            summary += (f"; token state jobs: done {states.done}, failed {states.failed},"
                        f" in flight {states.in_flight}")
            summary += (f"; agent operations done {agents.done}, failed {agents.failed},"
                        f" recoveries completed {agents.recoveries_completed}")
            problems = [f"mint of {f['job']} {f['id']} failed: {f['error']}" for f in report.failures]
            if burns.failed:
                problems.append(f"{burns.failed} burns of refunded allocations failed; retried"
                                " next pass (`alefctl allocation list --on-chain minted`)")
            problems += [f"token state job {f['job']} failed: {f['error']}" for f in states.failures]
            problems += [f"agent operation {f['kind']} {f['id']} failed: {f['error']}"
                         for f in agents.failures]
            lines = "\n".join((summary, *problems))
            job_result(report.to_dict() | {"burned": burns.burned, "burn_failed": burns.failed,
                                           "token_state": states.to_dict(),
                                           "agent_operations": agents.to_dict()},
                       as_json=as_json, quiet=quiet, problems=problems,
                       render=functools.partial(info, lines), final=once)
            if once:
                return
            time.sleep(interval)


@app.command("node")
@command_errors
def node(port: Annotated[int, typer.Option(help="Port for JSON-RPC.")] = 8545) -> None:
    """Run a local anvil node with its state in <home>/anvil (Ctrl-C stops it)."""
    import os

    import chain
    from alefctl.errors import NotFound

    try:
        command = chain.anvil_command(state.settings().home / "anvil", port)
    except chain.AnvilNotFound as missing:
        raise NotFound(str(missing)) from None
    info(f"anvil on http://127.0.0.1:{port}; use ALEF_CHAIN_RPC_URL=http://127.0.0.1:{port}")
    os.execvp(command[0], command)
