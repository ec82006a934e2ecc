"""Several statements in one round trip: reads whose rows come back together, and writes of
many rows with one statement per table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause


def fetch_together(conn: Connection, queries: list[tuple[TextClause, dict[str, Any]]]) -> list[list[Any]]:
    """Run the queries in the caller's transaction, in this order, in one psycopg pipeline (one
    round trip, the transaction's BEGIN included) and return each one's rows as named tuples."""
    driver = conn.connection.driver_connection
    cursors = []
    with driver.pipeline():
        for statement, params in queries:
            cursor = driver.cursor(row_factory=namedtuple_row)
            cursor.execute(_driver_sql(statement), params)
            cursors.append(cursor)
    try:
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


@lru_cache(maxsize=64)
def _driver_sql(statement: TextClause) -> str:
    """A SQLAlchemy text statement with psycopg's %(name)s placeholders."""
    return str(statement.compile(dialect=postgresql.psycopg.dialect()))


@dataclass(frozen=True)
class RowSet:
    """A statement over any number of rows at once: each column arrives as one typed array and
    `unnest` turns the arrays back into rows, so the server parses, plans and runs the statement
    once for all of them (not once per row) and the client adapts one parameter per column."""

    sql: str
    columns: tuple[str, ...]


def row_set(template: str, **types: str) -> RowSet:
    """A RowSet whose rows are `v`: `{rows}` in the template becomes
    `unnest(%(col)b::type[], ...) AS v(col, ...)`, one array per column in `types`, sent in
    binary (psycopg adapts a list in binary in less than half the time it takes as text)."""
    arrays = ", ".join(f"%({column})b::{kind}[]" for column, kind in types.items())
    return RowSet(template.format(rows=f"unnest({arrays}) AS v({', '.join(types)})"), tuple(types))


def insert_rows(table: str, **types: str) -> RowSet:
    """INSERT of rows whose keys are the table's column names (other columns take defaults)."""
    return row_set(f"INSERT INTO {table} ({', '.join(types)}) SELECT * FROM {{rows}}", **types)


def execute_row_sets(conn: Connection, batches: list[tuple[RowSet, list[dict[str, Any]]]]) -> None:
    """Run each statement over its rows (extra keys ignored; none: skipped), in the caller's
    transaction and in one psycopg pipeline: one round trip to the server for all of them."""
    driver = conn.connection.driver_connection
    with driver.pipeline(), driver.cursor() as cursor:
        for statement, rows in batches:
            if rows:
                cursor.execute(statement.sql,
                               {column: [row[column] for row in rows] for column in statement.columns})
