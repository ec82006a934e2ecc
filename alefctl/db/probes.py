"""Questions to the database server itself: is it there, which version is it."""

from __future__ import annotations

from sqlalchemy import Connection, text


def ping(conn: Connection) -> None:
    """A round trip to the server; raises what the driver raises if it does not answer."""
    conn.execute(text("SELECT 1"))


def server_version(conn: Connection) -> str:
    """The server's version, as it reports it."""
    return str(conn.execute(text("SHOW server_version")).scalar_one())
