"""Refuse to run on a database whose schema is missing or older than this alefctl."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alefctl.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.settings import Settings


def ensure_schema_current(engine: Engine, settings: Settings) -> None:
    """Bring the embedded database (alefctl's own) to the current schema; an external database
    behind this alefctl needs `db init`."""
    from alefctl.db.connection import is_embedded
    from alefctl.db.schema import current_version, init_schema, latest_version

    latest = latest_version()
    if is_embedded(settings):  # the owner checks and migrates: the application role may not
        from alefctl.db.connection import connect

        owner = connect(settings, owner=True)
        try:
            with owner.begin() as conn:
                if current_version(conn) < latest:
                    init_schema(conn)
                version = current_version(conn)
        finally:
            owner.dispose()
    else:
        with engine.connect() as conn:
            version = current_version(conn)
    if version == latest:
        return
    if version == 0:
        raise Conflict("the database has no alefctl schema: run `alefctl db init`")
    if version < latest:
        raise Conflict(f"database schema is version {version}, this alefctl needs {latest}:"
                       " run `alefctl db init`")
    raise Conflict(f"database schema is version {version}, newer than this alefctl ({latest})")
