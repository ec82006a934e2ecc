"""`alefctl config`: the effective settings and where each value came from."""

from __future__ import annotations

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, state, table

app = typer.Typer(help="Settings.", no_args_is_help=True)


@app.command("show")
@command_errors
def show(as_json: JsonOption = False) -> None:
    """Print the effective settings with secrets masked, and each value's source."""
    from alefctl.settings import describe_settings

    settings = state.settings()
    flags = {name: value for name, value in state.flags.items() if value is not None}
    rows = describe_settings(settings, flags)
    data = {
        "config_file": str(settings.config_file) if settings.config_file else None,
        "settings": [{"name": n, "value": v, "source": s} for n, v, s in rows],
    }
    title = f"settings (config file: {data['config_file'] or 'none'})"
    emit(data, as_json, lambda: table(title, ("setting", "value", "source"), rows))
