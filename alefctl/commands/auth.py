"""`alefctl login`, `logout`, `whoami`: the identity commands act with (an API key)."""

from __future__ import annotations

import sys

import typer

from alefctl.commands.common import JsonOption, command_errors, emit, fields, info, state
from alefctl.errors import InvalidInput


@command_errors
def login(as_json: JsonOption = False) -> None:
    """Verify an API key (read from stdin, or asked for on a terminal) and keep it as this data
    directory's credentials (ALEF_HOME/credentials, mode 0600). ALEF_API_KEY, when set, wins."""
    from alefctl.credentials import save_key
    from alefctl.workflows.api_keys import authenticate

    tty = sys.stdin.isatty()
    secret = (typer.prompt("API key", hide_input=True) if tty else sys.stdin.readline()).strip()
    if not secret:
        raise InvalidInput("no API key given (pipe it on stdin, or type it at the prompt)",
                           field="api_key")
    with state.engine().begin() as conn:
        actor = authenticate(conn, secret, "cli")
    path = save_key(state.settings(), secret, actor.email)
    data = {"email": actor.email, "role": actor.role, "credentials": str(path)}
    emit(data, as_json, lambda: info(f"logged in as {actor.email} ({actor.role}); key kept in {path}"))


@command_errors
def logout() -> None:
    """Forget the saved API key of this data directory (ALEF_API_KEY is not touched)."""
    from alefctl.credentials import forget_key

    settings = state.settings()
    info("logged out" if forget_key(settings) else f"not logged in ({settings.credentials_file})")


@command_errors
def whoami(as_json: JsonOption = False) -> None:
    """The user commands act as, and where the key comes from."""
    from alefctl.credentials import api_key

    actor = state.actor()
    data = {"email": actor.email, "role": actor.role, "user_id": actor.user_id,
            "key_from": api_key(state.settings())[1]}
    emit(data, as_json, lambda: fields("identity", data))
