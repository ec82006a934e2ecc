"""The `alefctl` command: root options, then the command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alefctl import __version__
from alefctl.commands import register
from alefctl.commands.common import state

EXIT_CODES_HELP = (
    "Exit codes: 0 success (also 'already done'), 1 failure, 2 usage or bad input, 3 not found,"
    " 4 permission, 5 conflict or wrong state, 6 database or chain unavailable (safe to retry)."
)

app = typer.Typer(
    name="alefctl",
    help=f"Operations toolkit for tokenized securities.\n\n{EXIT_CODES_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"alefctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Annotated[Path | None, typer.Option(
        "--home", help="Data directory (ALEF_HOME).", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", help="TOML settings file (ALEF_CONFIG).", show_default=False)] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Operations toolkit for tokenized securities."""
    state.configure(home=home, config=config)


register(app)


def main() -> None:
    """Console-script entry point."""
    app()
