"""`alefctl db`: create or upgrade the schema, show its state, stop the embedded server."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from alefctl.commands.common import (
    FIRST_ADMIN_EMAIL,
    JsonOption,
    command_errors,
    emit,
    fields,
    info,
    requires,
    state,
    stdout,
    table,
)
from alefctl.workflows import policy

app = typer.Typer(help="Database: schema, status, embedded server.", no_args_is_help=True)


@app.command("init")
@command_errors
def init(
    admin_email: Annotated[str, typer.Option(
        help="Email of the first admin, created (with an API key, printed once) when no person"
             " is an admin yet.")] = FIRST_ADMIN_EMAIL,
    as_json: JsonOption = False,
) -> None:
    """Create the database (embedded: in ALEF_HOME), the schema or its pending migrations, the
    system users and the first admin (idempotent). Once a platform has an admin, upgrading it
    needs an admin or operator."""
    data = initialize(admin_email)

    def render() -> None:
        if data["applied"]:
            info(f"applied: {', '.join(data['applied'])}")
        for email in data["created_users"]:
            info(f"created system user {email}")
        info(f"schema at version {data['version']}"
             + ("" if data["applied"] else " (already up to date)"))
        _show_first_admin(data["first_admin"])

    emit(data, as_json, render)


def initialize(admin_email: str = FIRST_ADMIN_EMAIL) -> dict[str, Any]:
    """What `db init` does (also `demo` on a new platform): create the embedded database if there
    is none, apply the schema, and on a platform with no admin create the first one and save its
    key as this user's credentials."""
    from alefctl.db.connection import is_embedded
    from alefctl.db.schema import init_schema
    from alefctl.workflows.api_keys import bootstrap_admin, first_admin_needed

    engine = state.schema_engine()  # the embedded database's owner (the app role may not), created
    with engine.begin() as conn:
        bootstrap = first_admin_needed(conn)
    if not bootstrap:
        # on the embedded database every command brings the schema up to date first; so here
        policy.require(state.actor(check_schema=is_embedded(state.settings())), "db.init")
    with engine.begin() as conn:
        result = init_schema(conn)
        created = bootstrap_admin(conn, admin_email) if bootstrap else None
    return {"version": result.version, "applied": result.applied,
            "created_users": result.created_users,
            "first_admin": None if created is None else _keep_first_admin(*created)}


def _show_first_admin(first: dict[str, Any] | None) -> None:
    """The new first admin's key (on stdout: it is data, shown once) and where it was saved."""
    if first is not None:
        stdout.print(f"first admin {first['email']}, API key (shown once): {first['api_key']}")
        info(first["note"])


def _keep_first_admin(email: str, secret: str) -> dict[str, Any]:
    """Save the first admin's key as this user's credentials, unless some are saved already."""
    from alefctl.credentials import save_key, saved_key

    settings = state.settings()
    if saved_key(settings) is None:
        note = f"its key is saved in {save_key(settings, secret, email)}: commands act as it"
    else:
        note = (f"credentials already exist in {settings.credentials_file}: keep this key, or"
                " `alefctl login` with it")
    return {"email": email, "api_key": secret, "note": note}


@app.command("status")
@command_errors
@requires("db.status", check_schema=False)
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
