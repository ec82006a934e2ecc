"""`alefctl settlement`: the settlement processor for cron, and the admins' settlement dashboard."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, fields, info, requires, state, table
from alefctl.commands.refs import resolved, resolved_all, resolved_opt

if TYPE_CHECKING:
    from chain import ChainClient

app = typer.Typer(help="Settlement: run the processor; list, show and retry trades' settlement.",
                  no_args_is_help=True)
TradeArg = Annotated[str, typer.Argument(help="Trade id or id prefix.")]
COLUMNS = ("id", "symbol", "seller_email", "buyer_email", "quantity", "price", "settlement_status",
           "settlement_type", "settlement_attempts", "settlement_error", "created_at")
HISTORY_COLUMNS = ("created_at", "from_status", "to_status", "attempt", "tx_hash", "error")


@app.command("run")
@command_errors
@requires("settlement.run")
def run(once: Annotated[bool, typer.Option("--once", help="One pass, then exit (cron).")] = False,
        interval: Annotated[float, typer.Option(min=0.1, help="Seconds between passes.")] = 5.0,
        batch_size: Annotated[int, typer.Option(min=1, help="Trades per batch (one transfer"
                                                " per token per batch).")] = 10,
        as_json: JsonOption = False) -> None:
    """Settle pending trades: off-chain fallback, else one batchForcedTransfer per token.

    Each pass first resolves trades a stopped run left 'processing' (asking the chain, so
    nothing is transferred twice), then settles the queue in batches, each trade tried once
    per pass. Safe to run from cron while `alefctl serve` (or another run) settles too.
    Exit code 0 when the pass ran (failed attempts are in the output), 6 when the database or
    the chain could not be reached (on-chain trades stay pending; safe to retry).
    """
    import time

    from alefctl.errors import Unavailable
    from alefctl.workflows.settlement.runner import drain_settlement

    with _lazy_chain() as opener:
        while True:
            report = drain_settlement(state.engine(), opener, batch_size=batch_size,
                                      actor=state.actor())
            emit(report.to_dict(), as_json, functools.partial(info, report.summary()))
            if once:
                if report.chain_error:  # on-chain trades wait: exit 6, safe to retry
                    raise Unavailable(f"chain unavailable: {report.chain_error}")
                return
            time.sleep(interval)


@app.command("list")
@command_errors
@requires("settlement.read")
def list_(status: Annotated[str | None, typer.Option(
              help="pending, processing, settled or failed.")] = None,
          token: Annotated[str | None, typer.Option(help="Only this token (symbol or id).")] = None,
          user: Annotated[str | None, typer.Option(help="Only trades of this buyer or seller"
                                                   " (email).")] = None,
          limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
          as_json: JsonOption = False) -> None:
    """List trades with their settlement state: unsettled first, newest first (admin)."""
    from alefctl.workflows.settlement.admin import list_settlement_trades

    token_id = resolved_opt("token", token)
    with state.transaction() as (conn, actor):
        found = list_settlement_trades(conn, actor, status=status, token=token_id, user=user,
                                       limit=limit)
    rows = [[getattr(t, c) for c in COLUMNS] for t in found]
    emit([t.to_dict() for t in found], as_json, lambda: table("trades", COLUMNS, rows))


@app.command("show")
@command_errors
@requires("settlement.read")
def show(trade: TradeArg, as_json: JsonOption = False) -> None:
    """Show a trade's settlement and every transition it went through (admin)."""
    from alefctl.workflows.settlement.admin import get_settlement_trade

    trade_id = resolved("trade", trade)
    with state.transaction() as (conn, actor):
        found = get_settlement_trade(conn, actor, trade_id)

    def render() -> None:
        fields(f"trade {found['id']}", {k: v for k, v in found.items() if k != "history"})
        table("history", HISTORY_COLUMNS, [[h[c] for c in HISTORY_COLUMNS] for h in found["history"]])

    emit(found, as_json, render)


@app.command("retry")
@command_errors
@requires("settlement.retry")
def retry(trades: Annotated[list[str] | None, typer.Argument(
              help="Trade ids or id prefixes; none with --all-failed.")] = None,
          all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed trade.")
                                ] = False,
          as_json: JsonOption = False) -> None:
    """Put failed settlements back in the queue with their attempts reset (admin, audited)."""
    from alefctl.errors import InvalidInput
    from alefctl.workflows.settlement.admin import retry_failed_settlements

    if bool(trades) == all_failed:
        raise InvalidInput("name trade ids, or pass --all-failed (not both)")
    trade_ids = None if all_failed else resolved_all("trade", trades or [])
    with state.transaction() as (conn, actor):
        retried = retry_failed_settlements(conn, actor, trade_ids)
    emit({"retried": retried}, as_json,
         lambda: info(f"{len(retried)} failed settlement(s) queued again"))


@contextmanager
def _lazy_chain() -> Iterator[Callable[[], ChainClient]]:
    """An opener of the configured chain: opened on first on-chain work, closed at the end."""
    from alefctl.chain_access import open_chain

    opened: list[Any] = []

    def opener() -> ChainClient:
        if not opened:
            opened.append(open_chain(state.settings()))
        return opened[0]

    try:
        yield opener
    finally:
        for client in opened:
            client.close()
