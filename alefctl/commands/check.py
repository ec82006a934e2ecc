"""`alefctl check`: the platform's invariants and its jobs' health in SQL, for people and cron."""

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


@command_errors
@requires("check.run")
def check(
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only this check (repeatable).")] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Check the platform's invariants (money conserved, ledgers exact, locks and supply
    covered) and its background jobs: no settlement or mint failed, none stuck longer than its
    threshold (settings jobs.settlement_stuck_minutes, jobs.mint_stuck_minutes).

    Exit code 0 when every check holds; 1 when any fails, with the rows that break it printed
    (stdout; --json gives {"ok": false, "checks": [{"name", "ok", "description", "violations",
    "truncated"}]}; --quiet prints only one line per offending row). Usage errors exit 2, an
    unreachable database 6. Read-only and safe for cron.
    """
    from alefctl.workflows.invariants import run_checks_in_snapshot

    results = run_checks_in_snapshot(state.engine(), state.actor(), only, state.settings().jobs)
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

    problems = [f"check {r.name}: {_row(row)}" for r in failed for row in r.violations]
    problems += [f"check {r.name}: more rows than shown" for r in failed if r.truncated]
    job_result(data, as_json=as_json, quiet=quiet, problems=problems, render=render)


def _row(row: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in row.items() if value is not None)
