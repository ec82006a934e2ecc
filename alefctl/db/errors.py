"""The one translation of database exceptions into alefctl's errors (errors.py).

Every front end asks here: commands turn the result into an exit code, the console into a
notification, the server into a problem response. An outage (the server is down, refused or
dropped the connection, a pool or connect timeout, an operator shutdown) is Unavailable: exit 6,
HTTP 503, safe to retry. Any other error the database raised is a plain AlefError (exit 1)
saying what the database refused. sqlalchemy and psycopg are imported only when an error is
translated, so `alefctl --help` loads neither.
"""

from __future__ import annotations

from alefctl.errors import AlefError, Unavailable
from alefctl.redact import mask_secrets


def database_error(exc: BaseException) -> AlefError | None:
    """alefctl's error for an exception raised by the database layer; None for any other. Its
    text has no credentials (a connection string quoted by the driver is masked)."""
    if is_outage(exc):
        return Unavailable(f"database unavailable: {mask_secrets(first_line(_origin(exc)))}")
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) or _is_psycopg_error(exc):
        return AlefError(f"database refused the change: {mask_secrets(first_line(_origin(exc)))}")
    return None


def is_outage(exc: BaseException) -> bool:
    """True when the database could not be reached or dropped the connection (retry later)."""
    import psycopg
    from sqlalchemy import exc as sa

    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    outage = (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError,
              psycopg.OperationalError, psycopg.InterfaceError)
    if isinstance(exc, outage):
        return True
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # pragma: no cover - psycopg-pool is a dependency
        return False
    return isinstance(exc, PoolTimeout)


def is_refused_value(exc: BaseException) -> bool:
    """True when the database refused a value as data (SQLSTATE class 22: a number out of
    range, a text too long or holding NUL, a bad time): the input's fault, not the server's."""
    import psycopg

    return isinstance(_origin(exc), psycopg.DataError)


def first_line(exc: object) -> str:
    """The first line of an exception's text, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _origin(exc: BaseException) -> BaseException:
    """The driver's own exception behind SQLAlchemy's wrapper (its text is the useful one)."""
    orig = getattr(exc, "orig", None)
    return orig if isinstance(orig, BaseException) else exc


def _is_psycopg_error(exc: BaseException) -> bool:
    import psycopg

    return isinstance(exc, psycopg.Error)
