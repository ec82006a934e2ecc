"""`alefctl console`: the admins' terminal dashboard (Textual, loaded only by this command)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alefctl.commands.common import command_errors, requires, state
from alefctl.errors import InvalidInput

SCREENS = ("overview", "kyc", "businesses", "tokens", "market", "settlement", "dividends", "audit",
           "mints", "surveillance")


@command_errors
@requires("console.open")
def console(
    screen: Annotated[str, typer.Option(
        help=f"Screen to open first: {', '.join(SCREENS)}.")] = "overview",
) -> None:
    """Open the terminal dashboard as the logged-in user (every action audited, source console)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InvalidInput("the console needs an interactive terminal; use the other commands"
                           " in scripts")
    if screen not in SCREENS:
        raise InvalidInput(f"--screen must be one of {', '.join(SCREENS)}", field="screen")
    from alefctl.tui.app import AlefConsole
    from alefctl.tui.services import ConsoleServices

    settings = state.settings()
    services = ConsoleServices.from_settings(settings, state.engine(), state.actor().email)
    services.actor()  # an unknown or deactivated user is refused here, before the screen opens
    AlefConsole(services, start=screen).run()
