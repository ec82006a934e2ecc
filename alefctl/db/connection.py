"""Build the SQLAlchemy engine (Core, psycopg 3, pooled) from the settings."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from alefctl.errors import Unavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.settings import Settings


def is_embedded(settings: Settings) -> bool:
    """True when no database URL is configured and the embedded server is used."""
    return settings.database.url is None


def no_database(settings: Settings) -> Unavailable:
    """The error of a data directory that has no embedded database (yet)."""
    return Unavailable(f"no alefctl database in {settings.home}: create it with `alefctl db init`"
                       " (or run `alefctl demo`), or set ALEF_HOME / ALEF_DATABASE_URL")


def database_url(settings: Settings, *, owner: bool = False, create: bool = False) -> str:
    """The SQLAlchemy URL: the configured one (psycopg driver), else the embedded server's, as
    the application role, or as the schema's owner (owner=True: `db init`, migrations). The
    embedded server is created only when asked (create=True: `db init`, `demo`). An external
    database is reached as its URL says (README, "Database roles")."""
    if settings.database.url is None:
        from alefctl.db import embedded

        if not create and not embedded.exists(settings.pgdata):
            raise no_database(settings)
        try:
            return embedded.embedded_url(settings.pgdata, owner=owner)
        except Exception as exc:  # pgserver raises several types; all mean "not available"
            raise Unavailable(f"embedded PostgreSQL could not start: {exc}") from exc
    url = settings.database.url.get_secret_value()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def connect(settings: Settings, *, owner: bool = False, create: bool = False) -> Engine:
    """Create the process's engine (on the embedded server: as the application role, unless
    `owner`); fails with Unavailable if the server cannot be reached, or if the embedded
    database does not exist and create is not set."""
    from sqlalchemy import create_engine

    from alefctl.db.errors import database_error

    url = database_url(settings, owner=owner, create=create)  # first: a missing database says so
    if is_embedded(settings) and not owner:
        _ensure_app_role(settings)
    engine = create_engine(
        url,
        pool_size=settings.database.pool_size,
        pool_pre_ping=True,
        hide_parameters=True,  # a statement's values (names, documents) stay out of its errors
        connect_args={"connect_timeout": settings.database.connect_timeout_s},
    )
    try:
        engine.connect().close()  # fail here, with a clear message, if the server is unreachable
    except Exception as exc:
        translated = database_error(exc)
        if not isinstance(translated, Unavailable):
            raise
        raise translated from exc
    return engine


_APP_ROLE_READY: set[str] = set()


def _ensure_app_role(settings: Settings) -> None:
    """The embedded server's application role exists (a server started by an older alefctl may
    lack it; a new start creates it); checked once per process."""
    from sqlalchemy import create_engine, text

    from alefctl.db import embedded

    key = str(settings.pgdata)
    if key in _APP_ROLE_READY:
        return
    owner = create_engine(database_url(settings, owner=True), poolclass=_null_pool())
    # A failure here (server unreachable, or the role created at once by another process) is
    # left to the application role's own connect, next, which says which.
    with suppress(Exception), owner.begin() as conn:
        conn.execute(text(embedded.CREATE_APP_ROLE))
    owner.dispose()
    _APP_ROLE_READY.add(key)


def _null_pool() -> type:
    from sqlalchemy.pool import NullPool

    return NullPool
