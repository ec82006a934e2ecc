"""`alefctl audit`: verify the audit log's hash chain, list its rows for investigators."""

from __future__ import annotations

import json
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
    parse_time,
    requires,
    state,
    table,
)

app = typer.Typer(help="The audit log: verify its hash chain, list its rows.",
                  no_args_is_help=True)

LIST_COLUMNS = ("created_at", "actor_email", "source", "action", "object_type", "object_id",
                "after")


@app.command("verify")
@command_errors
@requires("audit.verify")
def verify(as_json: JsonOption = False, quiet: QuietOption = False) -> None:
    """Walk the audit log's hash chain and recompute every row's hash.

    Exit code 0 when the chain is intact; 1 at the first row that does not match, named by its
    place in the chain (#seq) and id: a row changed after it was written, rows deleted (a gap,
    or rows missing at the end), a row re-hashed, a chain head that does not match the last
    row, or a row outside the chain. --json gives
    {"ok", "rows", "head": {"seq", "hash"}, "first_break": null or {"kind", "seq", "id",
    "missing", "message"}}. Keep the head's hash somewhere else too: a chain rewritten from the
    changed row to its end can only be caught against a hash recorded before. Read-only and
    safe for cron (--quiet prints only the first break, on one line).
    """
    from alefctl.workflows.audit import verify_chain

    report = verify_chain(state.engine(), state.actor())
    data = report.to_dict()

    def render() -> None:
        broken = report.first_break
        fields("audit chain", {"rows checked": report.rows, "head seq": report.head_seq,
                               "head hash": report.head_hash,
                               "first break": None if broken is None else broken.message})
        info(f"audit chain intact: {report.rows} rows" if broken is None
             else f"audit chain broken: {broken.message}")

    problems = [] if report.first_break is None else [
        f"audit chain broken: {report.first_break.message}"]
    job_result(data, as_json=as_json, quiet=quiet, problems=problems, render=render)


@app.command("list")
@command_errors
@requires("audit.read")
def list_(
    actor: Annotated[str | None, typer.Option(
        "--actor", help="Only rows of this acting user (whole email).")] = None,
    action: Annotated[str | None, typer.Option(
        "--action", help="Only actions starting with this prefix (e.g. wallet. or kyc.approve).")
    ] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only rows written at or after this ISO-8601 time (UTC if no zone).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows (1-10000).")] = 100,
    as_json: JsonOption = False,
) -> None:
    """List audit rows, newest first.

    --json gives [{"id", "created_at", "actor_email", "action", "object_type", "object_id",
    "before", "after", "source"}].
    """
    from alefctl.workflows.audit import list_entries

    since_time = parse_time(since, "since")
    with state.transaction() as (conn, acting):
        entries = list_entries(conn, acting, actor_email=actor, action_prefix=action,
                               since=since_time, limit=limit)
    records = [entry.to_dict() for entry in entries]
    emit(records, as_json, lambda: table(
        "audit log", LIST_COLUMNS,
        [[r["created_at"], r["actor_email"], r["source"], r["action"], r["object_type"],
          r["object_id"], _compact(r["after"])] for r in records]))


def _compact(value: object) -> str:
    return "" if value is None else json.dumps(value, separators=(",", ":"), default=str)
