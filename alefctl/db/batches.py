"""Several statements' rows sent in one round trip, inside the caller's transaction."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause

Batch = tuple[TextClause, list[dict[str, Any]]]


def execute_batches(conn: Connection, batches: list[Batch]) -> None:
    """Run each statement for each of its rows, all in one psycopg pipeline: one round trip to
    the server instead of one per statement (each executemany alone waits for its results)."""
    driver = conn.connection.driver_connection
    with driver.pipeline(), driver.cursor() as cursor:
        for statement, rows in batches:
            if rows:
                cursor.executemany(_driver_sql(statement), rows)


@lru_cache(maxsize=64)
def _driver_sql(statement: TextClause) -> str:
    """The statement with psycopg's %(name)s placeholders."""
    return str(statement.compile(dialect=postgresql.psycopg.dialect()))
