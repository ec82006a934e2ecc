"""`alefctl db`: create or upgrade the schema, show its state, stop the embedded server."""

from __future__ import annotations

import typer

from alefctl.commands.common import (
    JsonOption,
    command_errors,
    emit,
    fields,
    info,
    state,
    table,
)

app = typer.Typer(help="Database: schema, status, embedded server.", no_args_is_help=True)


@app.command("init")
@command_errors
def init(as_json: JsonOption = False) -> None:
    """Create the schema or apply pending migrations, and the system users (idempotent)."""
    from alefctl.db.schema import init_schema

    with state.engine(check_schema=False).begin() as conn:
        result = init_schema(conn)
    data = {"version": result.version, "applied": result.applied,
            "created_users": result.created_users}

    def render() -> None:
        if result.applied:
            info(f"applied: {', '.join(result.applied)}")
        for email in result.created_users:
            info(f"created system user {email}")
        info(f"schema at version {result.version}"
             + ("" if result.applied else " (already up to date)"))

    emit(data, as_json, render)


@app.command("status")
@command_errors
def status(as_json: JsonOption = False) -> None:
    """Show where the database is, its schema version and row counts."""
    from alefctl.db.connection import is_embedded
    from alefctl.db.probes import server_version
    from alefctl.db.schema import current_version, table_counts

    settings = state.settings()
    with state.engine(check_schema=False).connect() as conn:
        version = current_version(conn)
        counts = table_counts(conn) if version else {}
        server = server_version(conn)
    data = {
        "embedded": is_embedded(settings),
        "location": str(settings.pgdata) if is_embedded(settings) else "ALEF_DATABASE_URL",
        "server_version": server,
        "schema_version": version,
        "counts": counts,
    }

    def render() -> None:
        fields("database", {k: v for k, v in data.items() if k != "counts"})
        table("rows", ("table", "count"), sorted(counts.items()))

    emit(data, as_json, render)


@app.command("stop")
@command_errors
def stop() -> None:
    """Stop the embedded PostgreSQL server (the next command starts it again)."""
    from alefctl.db import embedded
    from alefctl.db.connection import is_embedded

    settings = state.settings()
    if not is_embedded(settings):
        info("an external database is configured (ALEF_DATABASE_URL); nothing to stop")
        return
    stopped = embedded.stop(settings.pgdata)
    info("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
