"""`alefctl demo`: run the platform's lifecycle on the configured (default: embedded) parts."""

from __future__ import annotations

from alefctl.commands.common import JsonOption, command_errors, emit, info, state, table
from alefctl.commands.db import initialize


@command_errors
def demo(as_json: JsonOption = False) -> None:
    """Run the demo scenario and print what it did.

    On a new data directory it first does what `alefctl db init` does: creates the embedded
    database and the first admin (admin@localhost), whose key is saved as this user's
    credentials."""
    from alefctl.demo import run_demo
    from alefctl.workflows.api_keys import first_admin_needed

    settings = state.settings()
    info("alefctl demo: embedded PostgreSQL and EVM unless ALEF_DATABASE_URL / ALEF_CHAIN_RPC_URL")
    with state.engine(check_schema=False, create=True).begin() as conn:
        new_platform = first_admin_needed(conn)
    if new_platform:
        first = initialize()["first_admin"]
        if first is not None:
            info(f"created the first admin {first['email']}; {first['note']}")
    report = run_demo(state.engine(), settings, info)

    def render() -> None:
        columns = ("email", "role", "country", "wallet_address")
        table(f"demo {report.tag}: users", columns,
              [[getattr(u, c) for c in columns] for u in report.users])
        table(f"{report.token.get('symbol')}: database vs chain", ("holder", "database", "chain"),
              [[p["email"], p["db_balance"], p["chain_balance"]] for p in report.positions])
        table("trades", ("buyer", "price", "quantity", "total"),
              [[t["investor"], t["price"], t["quantity"], t["total"]] for t in report.trades])
        table("order book", ("bids (price, qty)", "asks (price, qty)"),
              [[" x ".join(map(str, b)) if b else "", " x ".join(map(str, a)) if a else ""]
               for b, a in _pairs(report.book.get("bids", []), report.book.get("asks", []))])
        table("summary", ("step",), [[s] for s in report.steps])

    emit(report.to_dict(), as_json, render)
    if not report.verified:
        from alefctl.errors import AlefError

        raise AlefError("the demo finished, but reconcile or check found a problem (see above)")


def _pairs(bids: list, asks: list) -> list[tuple]:
    depth = max(len(bids), len(asks))
    return [(bids[i] if i < len(bids) else None, asks[i] if i < len(asks) else None)
            for i in range(depth)]
