"""`alefctl demo`: run the platform's lifecycle on the configured (default: embedded) parts."""

from __future__ import annotations

from alefctl.commands.common import JsonOption, command_errors, emit, info, state, table


@command_errors
def demo(as_json: JsonOption = False) -> None:
    """Run the demo scenario and print what it did."""
    from alefctl.demo import run_demo

    info("alefctl demo: starting (embedded PostgreSQL unless ALEF_DATABASE_URL is set)")
    report = run_demo(state.engine(), info)

    def render() -> None:
        columns = ("email", "role", "country", "wallet_address", "fiat_balance")
        table(f"demo {report.tag}: users", columns,
              [[getattr(u, c) for c in columns] for u in report.users])
        table("deposits", ("email", "amount", "balance_after"),
              [[d["email"], d["amount"], d["balance_after"]] for d in report.deposits])
        table("summary", ("step",), [[s] for s in report.steps])

    emit(report.to_dict(), as_json, render)
