"""Conventions shared by every command (README, "Commands"), in one place.

Data goes to stdout (a table, or the documented JSON shape with --json); messages go to stderr.
Expected errors print one line and exit with their code; nothing prompts without a terminal.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import click
import typer
from rich.console import Console
from rich.table import Table

from alefctl.errors import AlefError, InvalidInput, PermissionDenied

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from alefctl.settings import Settings
    from alefctl.workflows.actor import Actor

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (stable shape) on stdout.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])
FIRST_ADMIN_EMAIL = "admin@localhost"
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print nothing when all is well; otherwise only the problems, one line"
    " each on stderr (for cron, which mails any output).")]


class State:
    """Per-invocation flags, and the settings, engine and acting user built from them on first use."""

    def __init__(self) -> None:
        self.flags: dict[str, Any] = {}
        self.config_file: Path | None = None
        self._settings: Settings | None = None
        self._engine: Engine | None = None
        self._schema_checked = False
        self._actor: Actor | None = None

    def configure(self, *, home: Path | None, config: Path | None) -> None:
        """Record the root options; called by the root callback on every invocation."""
        self.flags = {"home": home}
        self.config_file = config
        self._settings = None
        self._engine = None
        self._actor = None

    def settings(self) -> Settings:
        """The settings, built once."""
        if self._settings is None:
            from alefctl.settings import load_settings

            self._settings = load_settings(self.config_file, **self.flags)
        return self._settings

    def engine(self, *, check_schema: bool = True, create: bool = False) -> Engine:
        """The database engine; checks the schema is current. Only `db init` and `demo` pass
        create: any other command on a data directory without its embedded database exits 6."""
        if self._engine is None:
            from alefctl.db import connect

            self._engine = connect(self.settings(), create=create)
            self._schema_checked = False
        if check_schema and not self._schema_checked:
            from alefctl.db.guard import ensure_schema_current

            ensure_schema_current(self._engine, self.settings())
            self._schema_checked = True
        return self._engine

    def schema_engine(self) -> Engine:
        """The engine that may change the schema (`db init`, `demo`): on the embedded database
        its owner (commands otherwise connect as the application role), creating the database if
        there is none; else the configured one."""
        from alefctl.db.connection import connect, is_embedded

        if is_embedded(self.settings()):
            return connect(self.settings(), owner=True, create=True)
        return self.engine(check_schema=False)

    def actor(self, *, check_schema: bool = True) -> Actor:
        """The user this command acts as: the owner of ALEF_API_KEY or of the saved credentials."""
        if self._actor is None:
            from alefctl.credentials import api_key
            from alefctl.workflows.api_keys import authenticate

            engine = self.engine(check_schema=check_schema)
            secret, origin = api_key(self.settings())
            if secret is None:
                raise PermissionDenied("no identity: run `alefctl login` (it reads an API key) or"
                                       " set ALEF_API_KEY", code="unauthenticated")
            with engine.begin() as conn:
                try:
                    self._actor = authenticate(conn, secret, "cli")
                except PermissionDenied as error:
                    raise PermissionDenied(f"{error.message} (from {origin}); run `alefctl login`",
                                           code="unauthenticated") from None
        return self._actor

    @contextmanager
    def transaction(self) -> Iterator[tuple[Connection, Actor]]:
        """One database transaction and the acting user."""
        actor = self.actor()
        with self.engine().begin() as conn:
            yield conn, actor


def requires(action: str, *, check_schema: bool = True) -> Callable[[F], F]:
    """A command that acts as someone: it needs an identity (exit 4 without one) whose role the
    policy (workflows/policy.py) allows for the action; the roles are shown in --help. A command
    that looks at the schema itself (db status) asks for the identity without upgrading it."""
    from alefctl.workflows import policy

    roles = policy.roles_for(action)

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            policy.require(state.actor(check_schema=check_schema), action)
            return fn(*args, **kwargs)

        wrapper.__doc__ = f"{(fn.__doc__ or '').rstrip()}\n\nRole: {', '.join(roles)}."
        wrapper.alef_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


state = State()


def command_errors(fn: F) -> F:
    """Turn expected errors into one line on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AlefError as exc:
            fail(exc)
        except KeyboardInterrupt:
            fail(AlefError("interrupted"))
        except (typer.Exit, typer.Abort, click.ClickException):
            raise  # a command's own exit code, or Click's usage error: not unexpected
        except Exception as exc:
            from alefctl.db.errors import database_error

            translated = database_error(exc)
            if translated is None:
                unexpected(exc, f"{fn.__module__.rpartition('.')[2]} {fn.__name__}")
            fail(translated)

    wrapper.alef_errors = True  # type: ignore[attr-defined]  # tests/test_authorization_matrix.py
    return wrapper  # type: ignore[return-value]


DEBUG_ENV = "ALEF_DEBUG"
ERROR_LOG = Path("logs") / "errors.log"  # under the data directory (ALEF_HOME)


def unexpected(exc: BaseException, command: str = "") -> NoReturn:
    """An error alefctl did not expect (a bug, a library's failure): one line on stderr and exit
    1. Its text and traceback may carry personal data or secrets (an RPC URL with its key, an API
    key, a row), so everything is masked with redact (alefctl/redact.py): the line shows the
    error's type and masked first line; the masked traceback is appended to
    <home>/logs/errors.log (mode 0600), and printed on stderr too when ALEF_DEBUG=1."""
    import traceback

    from alefctl.redact import redact

    trace = redact("".join(traceback.format_exception(exc)))
    first = (redact(str(exc)).strip().splitlines() or [""])[0][:300]
    where = _log_unexpected(f"alefctl {command}".strip(), trace)
    hint = f"; traceback in {where}" if where else ""
    stderr.print(f"error: unexpected {type(exc).__name__}: {first} (a bug: please report it{hint};"
                 f" {DEBUG_ENV}=1 prints it)", markup=False, highlight=False)
    if os.environ.get(DEBUG_ENV) == "1":
        sys.stderr.write(trace)
    raise typer.Exit(1)


def _log_unexpected(command: str, trace: str) -> Path | None:
    """Append a masked traceback to the error log; None when it cannot be written."""
    from datetime import datetime

    try:
        path = _home() / ERROR_LOG
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} {command}\n{trace}")
        return path
    except Exception:  # noqa: BLE001 - reporting an error must not raise another
        return None


def _home() -> Path:
    """The data directory, even when the settings themselves are what failed."""
    from alefctl.settings import default_home

    try:
        return state.settings().home
    except Exception:  # noqa: BLE001 - the error being reported may be the settings'
        return Path(state.flags.get("home") or os.environ.get("ALEF_HOME") or default_home())


def fail(exc: AlefError) -> None:
    """Print the error's one line and exit with its code."""
    stderr.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    raise typer.Exit(exc.exit_code)


def info(message: str) -> None:
    """A message for the person at the terminal (stderr, never mixed into the data)."""
    stderr.print(message, highlight=False)


def job_result(data: Any, *, as_json: bool, quiet: bool, problems: Sequence[str],
               render: Callable[[], None], final: bool = True) -> None:
    """A job's outcome (the commands cron runs): the data as usual (JSON, or the human
    rendering), or with --quiet (which wins over --json) only the problems, one line each on
    stderr. The final outcome of a run exits 1 when there are problems."""
    if quiet:
        for problem in problems:
            sys.stderr.write(problem.replace("\n", " ") + "\n")
    else:
        emit(data, as_json, render)
    if problems and final:
        raise typer.Exit(1)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    """Print data as JSON (--json) or through the human renderer."""
    if as_json:
        from alefctl.jsonfmt import to_jsonable

        sys.stdout.write(json.dumps(to_jsonable(data), indent=2) + "\n")
    else:
        render()


def emit_list(title: str, columns: Sequence[str], items: Sequence[Any], as_json: bool) -> None:
    """A list of records (dataclasses with to_dict, or dicts): JSON, or a table of columns."""
    records = [item.to_dict() if hasattr(item, "to_dict") else item for item in items]
    emit(records, as_json,
         lambda: table(title, columns, [[record[c] for c in columns] for record in records]))


def emit_object(title: str, item: Any, as_json: bool) -> None:
    """One record: JSON, or a two-column table of its fields."""
    record = item.to_dict() if hasattr(item, "to_dict") else item
    emit(record, as_json, lambda: fields(title, record))


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a Rich table on stdout."""
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*["" if value is None else str(value) for value in row])
    # Off a terminal (pipes, cron mail) cells are never cut: the table takes its natural width.
    console = stdout if stdout.is_terminal else Console(file=sys.stdout, width=10_000)
    console.print(grid)


def fields(title: str, data: dict[str, Any]) -> None:
    """Print one object as a two-column table."""
    table(title, ("field", "value"), list(data.items()))


def confirm(question: str, yes: bool) -> None:
    """Ask before a destructive action; without a terminal, --yes is required."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInput(f"{question} Refusing without a terminal: pass --yes to confirm.")
    if not typer.confirm(question, default=False, err=True):
        raise AlefError("cancelled")


def parse_time(raw: str | None, field: str) -> Any:
    """An ISO-8601 date or time from the command line, as an aware datetime (UTC if naive)."""
    from alefctl.workflows.validation import instant

    return None if raw is None else instant(raw, field=field)
