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
    table,
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

    The jobs and their order are those of workflows/onchain/worker.py (`alefctl worker` and
    `alefctl serve` run the same list, with maturity, failed offerings and settlement too).
    Exit code 0 when the pass ran and no job failed; 1 when a job failed (naming each; fix the
    cause, then `alefctl allocation retry`); 6 when the database or chain is unreachable.
    Without --once the loop never exits for failed jobs.
    """
    import time

    from alefctl.chain_access import open_chain
    from alefctl.workflows.onchain.worker import JobContext, run_jobs

    with open_chain(state.settings()) as client:
        context = JobContext(state.engine(), lambda: client, state.actor(), state.settings())
        while True:
            jobs = run_jobs(context, cron="chain work", skip_idle=False)
            report, burns = jobs.jobs["mints"], jobs.jobs["burns"]
            states, agents = jobs.jobs["token_state"], jobs.jobs["agent_operations"]
            summary = ("another worker is running; nothing done" if report["busy"] else
                       f"minted {report['minted']}, failed {report['failed']},"
                       f" in flight {report['in_flight']}, requeued {report['requeued']},"
                       f" burned {burns['burned']}")
            summary += (f"; token state jobs: done {states['done']}, failed {states['failed']},"
                        f" in flight {states['in_flight']}")
            summary += (f"; agent operations done {agents['done']}, failed {agents['failed']},"
                        f" recoveries completed {agents['recoveries_completed']}")
            lines = "\n".join((summary, *jobs.problems))
            job_result(report | burns | {"token_state": states, "agent_operations": agents},
                       as_json=as_json, quiet=quiet, problems=jobs.problems,
                       render=functools.partial(info, lines), final=once)
            if once:
                return
            time.sleep(interval)


@app.command("gas")
@command_errors
@requires("chain.gas")
def gas(token: Annotated[str, typer.Option(help="Token symbol or id.")],
        as_json: JsonOption = False) -> None:
    """Gas of a token's transactions per operation kind (deploy steps, identity, mint, burn,
    settlement, token state, agent operations), with totals: what its chain work cost."""
    from alefctl.workflows.onchain.gas import token_gas

    token_id = resolved("token", token)
    with state.transaction() as (conn, actor):
        data = token_gas(conn, actor, str(token_id))
    columns = ["operation", "transactions", "confirmed", "reverted", "gas_used", "average_gas",
               "max_gas", "fee_wei"]

    def render() -> None:
        table(f"gas of {data['token']} (issuer {data['issuer']}, {data['business']})", columns,
              [[op[c] for c in columns] for op in data["operations"]]
              + [["total", data["total_transactions"], "", "", data["total_gas_used"], "", "",
                  data["total_fee_wei"]]])

    emit(data, as_json, render)


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
