"""Several statements in one round trip (RoundTrip): reads whose rows come back together, and
writes of many rows with one statement per table (RowSet)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import TextClause

from alefctl.db.arrays import encode_array


def plan_by_key(conn: Connection) -> None:
    """Make a connection's plans find rows by key (the order writer's connection).

    PostgreSQL plans a statement once per connection and keeps the plan; the writer's are planned
    in its first groups, when the tables may be new and their statistics empty. Planned so, the
    update of a group's orders scanned and hashed the whole orders table in every group until the
    next ANALYZE (a third of the database's CPU per order in the load bench, and growing with the
    table). Off, a sequential scan is only chosen where no index can serve."""
    conn.exec_driver_sql("SET enable_seqscan = off")


class RoundTrip:
    """Statements sent together in one psycopg pipeline: one round trip to the server for all of
    them, run in this order in the caller's transaction (its BEGIN included). After an error
    the rest are skipped and `run` raises the first error."""

    def __init__(self, conn: Connection):
        self._driver: Any = conn.connection.driver_connection  # a psycopg connection
        self._steps: list[tuple[str, dict[str, Any], bool]] = []  # sql, params, has rows
        self._cursors: list[Any] = []

    def read(self, statement: TextClause, params: dict[str, Any]) -> int:
        """A query whose rows `rows(step)` returns as named tuples; returns its step."""
        return self._add(_driver_sql(statement), params, rows=True)

    def write(self, statement: RowSet, rows: list[dict[str, Any]]) -> None:
        """A RowSet statement over these rows (extra keys ignored; none: skipped)."""
        if rows:
            self._add(statement.sql, {
                column: encode_array(sql_type, [row[column] for row in rows], self._driver)
                for column, sql_type in zip(statement.columns, statement.types, strict=True)})

    def run(self) -> None:
        """Send everything and wait for every answer."""
        try:
            with self._driver.pipeline():
                for sql, params, has_rows in self._steps:
                    cursor = self._driver.cursor(row_factory=namedtuple_row)
                    self._cursors.append(cursor)
                    cursor.execute(sql, params)
                    if not has_rows:
                        cursor.close()
        except BaseException:
            for cursor in self._cursors:
                cursor.close()
            raise

    def rows(self, step: int) -> list[Any]:
        """The rows of a read."""
        with self._cursors[step] as cursor:
            return cursor.fetchall()

    def _add(self, sql: str, params: dict[str, Any], *, rows: bool = False) -> int:
        self._steps.append((sql, params, rows))
        return len(self._steps) - 1


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
    types: tuple[str, ...]  # SQL types of the columns (arrays.encode_array)


def row_set(template: str, **types: str) -> RowSet:
    """A RowSet whose rows are `v`: `{rows}` in the template becomes
    `unnest(%(col)b::type[], ...) AS v(col, ...)`, one array per column in `types`, each
    encoded in binary in one pass (arrays.py)."""
    arrays = ", ".join(f"%({column})b::{kind}[]" for column, kind in types.items())
    return RowSet(template.format(rows=f"unnest({arrays}) AS v({', '.join(types)})"),
                  tuple(types), tuple(types.values()))


def insert_rows(table: str, **types: str) -> RowSet:
    """INSERT of rows whose keys are the table's column names (other columns take defaults)."""
    return row_set(f"INSERT INTO {table} ({', '.join(types)}) SELECT * FROM {{rows}}", **types)
