"""`alefctl serve`: the long-running server (HTTP + WebSocket API, engine, workers)."""

from __future__ import annotations

from typing import Annotated

import typer

from alefctl.commands.common import command_errors, info, requires, state


@command_errors
@requires("server.run")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the investor API, the matching engine and the background workers."""
    import sys

    import uvicorn

    # Threads that wake for a moment (the order writer's answers) wait less for the GIL.
    sys.setswitchinterval(0.0005)

    from alefctl.redact import install_log_redaction
    from alefctl.server import create_app
    from alefctl.server.runtime import quiet_garbage_collector
    from alefctl.workflows.service import record_start

    settings = state.settings()
    bind_host = host or settings.server.host
    bind_port = port or settings.server.port
    app = create_app(settings)
    quiet_garbage_collector()
    with state.transaction() as (conn, actor):  # who started it, and who its own work acts as
        service = record_start(conn, actor, host=bind_host, port=bind_port)
    info(f"alefctl serve on http://{bind_host}:{bind_port} (OpenAPI at /docs), started by"
         f" {actor.email}; its own work acts as {service.email}")
    # uvicorn logs each WebSocket handshake's URL, `?api_key=` included (and each request's
    # with server.access_log): its loggers mask keys. create_app did it too; uvicorn's logging
    # setup replaces handlers but keeps loggers' filters.
    install_log_redaction()
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="info",
                access_log=settings.server.access_log)
