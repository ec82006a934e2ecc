"""`alefctl reconcile`: the database's token positions against the chain, for people and cron."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from alefctl.commands.common import (
    JsonOption,
    QuietOption,
    command_errors,
    info,
    job_result,
    requires,
    state,
    table,
)
from alefctl.commands.refs import resolved_opt

BREAK_COLUMNS = ("symbol", "kind", "email", "wallet", "db_balance", "chain_balance", "detail")
FLIGHT_COLUMNS = ("symbol", "email", "db_balance", "chain_balance", "explained_by")
FAILED_COLUMNS = ("symbol", "email", "db_balance", "chain_balance", "failed")


@command_errors
@requires("reconcile.run")
def reconcile(
    token: Annotated[str | None, typer.Option(help="Only this token (symbol or id).")] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Compare database positions with the chain: balances, supply, frozen tokens.

    For each deployed token: every holder's wallets.balance against balanceOf (a difference fully
    explained by unsettled trades or not yet minted allocations and dividends is listed as in
    flight, not a break; a holder with a failed settlement or mint is listed as failed),
    totalSupply against the minted allocations and dividends, tokens held by unknown addresses,
    and frozen amounts. Read-only and safe for cron.

    Exit code 0 when nothing breaks; 1 when anything does or a settlement or mint failed, with
    them printed (stdout; --json gives {"ok": false, "tokens": [{"symbol", "ok",
    "total_supply", "minted_db", "breaks", "in_flight", "failed", "off_chain", "frozen",
    ...}]}; --quiet prints only one line per break or failed holder). Usage errors exit 2, an unknown token
    3, a token not deployed 5, an unreachable database or chain 6.
    """
    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.workflows.reconcile import reconcile as run_reconcile

    with open_chain(state.settings()) as client, chain_errors():
        results = run_reconcile(state.engine(), state.actor(), client, resolved_opt("token", token))
    tokens = [r.to_dict() for r in results]
    data = {"ok": all(r.ok for r in results), "tokens": tokens}
    job_result(data, as_json=as_json, quiet=quiet, problems=_problems(tokens),
               render=lambda: _render(data))


def _problems(tokens: list[dict[str, Any]]) -> list[str]:
    """One line per break and per holder with a failed settlement or mint."""
    breaks = [f"reconcile {t['symbol']}: {b['kind']} break"
              + (f" for {b['email']}" if b.get("email") else "") + f": {b['detail']}"
              for t in tokens for b in t["breaks"]]
    return breaks + [f"reconcile {t['symbol']}: {f['email']} has failed {_items(_failed(f))}"
                     " (not on-chain; `alefctl settlement retry` / `allocation retry`)"
                     for t in tokens for f in t["failed"]]


def _render(data: dict[str, Any]) -> None:
    tokens = data["tokens"]
    table("tokens", ("symbol", "total_supply", "minted_db", "holders", "breaks", "in_flight"),
          [[t["symbol"], t.get("total_supply"), t.get("minted_db"), t.get("holders"),
            len(t["breaks"]), len(t["in_flight"])] for t in tokens])
    breaks = [b for t in tokens for b in t["breaks"]]
    if breaks:
        table("breaks", BREAK_COLUMNS, [[b.get(c) for c in BREAK_COLUMNS] for b in breaks])
    flights = [{**f, "symbol": t["symbol"], "explained_by": _items(f["items"])}
               for t in tokens for f in t["in_flight"]]
    if flights:
        table("in flight (explained)", FLIGHT_COLUMNS, [[f[c] for c in FLIGHT_COLUMNS]
                                                        for f in flights])
    failed = [{**f, "symbol": t["symbol"], "failed": _items(_failed(f))}
              for t in tokens for f in t["failed"]]
    if failed:
        table("FAILED settlements or mints", FAILED_COLUMNS,
              [[f.get(c) for c in FAILED_COLUMNS] for f in failed])
    frozen = [{**f, "symbol": t["symbol"]} for t in tokens for f in t["frozen"]]
    if frozen:
        table("frozen on-chain", ("symbol", "email", "wallet", "frozen", "wallet_frozen"),
              [[f["symbol"], f["email"], f["wallet"], f["frozen"], f["wallet_frozen"]]
               for f in frozen])
    if breaks or failed:
        info(f"{len(breaks)} break(s), {len(failed)} holder(s) with failed settlements or mints"
             f" in {len(tokens)} token(s)")
    else:
        info(f"{len(tokens)} token(s) reconcile with the chain")


def _failed(holder: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in holder["items"] if item["status"] == "failed"]


def _items(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['items']} {i['kind']} {i['status']} ({i['delta']:+d})" for i in items)
