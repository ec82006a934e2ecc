"""`alefctl check`: the platform's invariants in SQL, for people and for cron."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, info, requires, state, table


@command_errors
@requires("check.run")
def check(
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this check (repeatable).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the platform's invariants: money conserved, ledgers exact, locks and supply covered.

    Exit code 0 when every check holds; 1 when any fails, with the rows that break it printed
    (stdout; --json gives {"ok": false, "checks": [{"name", "ok", "description", "violations",
    "truncated"}]}). Usage errors exit 2, an unreachable database 6. Read-only and safe for cron.
    """
    from alefctl.workflows.invariants import run_checks_in_snapshot

    results = run_checks_in_snapshot(state.engine(), state.actor(), only)
    failed = [result for result in results if not result.ok]
    data = {"ok": not failed, "checks": [result.to_dict() for result in results]}

    def render() -> None:
        table("checks", ("check", "result", "violations"),
              [[r.name, "ok" if r.ok else "FAIL", f"{len(r.violations)}{'+' if r.truncated else ''}"]
               for r in results])
        for result in failed:
            columns = list(result.violations[0])
            table(f"{result.name}: {result.description}", columns,
                  [[row[c] for c in columns] for row in result.violations])
        info(f"{len(failed)} of {len(results)} checks failed" if failed
             else f"all {len(results)} checks hold")

    emit(data, as_json, render)
    if failed:
        raise typer.Exit(1)
