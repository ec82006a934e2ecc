"""`alefctl reconcile`: the database's token positions against the chain, for people and cron."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, info, requires, state, table
from alefctl.commands.refs import resolved_opt

BREAK_COLUMNS = ("symbol", "kind", "email", "wallet", "db_balance", "chain_balance", "detail")
FLIGHT_COLUMNS = ("symbol", "email", "db_balance", "chain_balance", "explained_by")


@command_errors
@requires("reconcile.run")
def reconcile(
    token: Annotated[str | None, typer.Option(help="Only this token (symbol or id).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Compare database positions with the chain: balances, supply, frozen tokens.

    For each deployed token: every holder's wallets.balance against balanceOf (a difference fully
    explained by unsettled trades or not yet minted allocations and dividends is listed as in
    flight, not a break), totalSupply against the minted allocations and dividends, tokens held
    by unknown addresses, and frozen amounts. Read-only and safe for cron.

    Exit code 0 when nothing breaks; 1 when anything does, with the breaks printed (stdout;
    --json gives {"ok": false, "tokens": [{"symbol", "ok", "total_supply", "minted_db",
    "breaks", "in_flight", "off_chain", "frozen", ...}]}). Usage errors exit 2, an unknown token
    3, a token not deployed 5, an unreachable database or chain 6.
    """
    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.workflows.reconcile import reconcile as run_reconcile

    with open_chain(state.settings()) as client, chain_errors():
        results = run_reconcile(state.engine(), state.actor(), client, resolved_opt("token", token))
    data = {"ok": all(r.ok for r in results), "tokens": [r.to_dict() for r in results]}
    emit(data, as_json, lambda: _render(data))
    if not data["ok"]:
        raise typer.Exit(1)


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
    frozen = [{**f, "symbol": t["symbol"]} for t in tokens for f in t["frozen"]]
    if frozen:
        table("frozen on-chain", ("symbol", "email", "wallet", "frozen", "wallet_frozen"),
              [[f["symbol"], f["email"], f["wallet"], f["frozen"], f["wallet_frozen"]]
               for f in frozen])
    info(f"{len(breaks)} break(s) in {len(tokens)} token(s)" if breaks
         else f"{len(tokens)} token(s) reconcile with the chain")


def _items(items: list[dict[str, Any]]) -> str:
    return ", ".join(f"{i['items']} {i['kind']} {i['status']} ({i['delta']:+d})" for i in items)
