"""RoundTrip: a group's reads and writes in one round trip."""

from __future__ import annotations

import pytest
from psycopg import errors
from sqlalchemy import text

from alefctl.db.batches import RoundTrip, row_set

TABLE = "CREATE TABLE round_trip_rows (n int PRIMARY KEY)"
INSERT = row_set("INSERT INTO round_trip_rows SELECT v.n FROM {rows}", n="int")
COUNT = text("SELECT count(*) AS rows FROM round_trip_rows WHERE n < :n")


def test_reads_see_the_writes_before_them(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        conn.exec_driver_sql(TABLE)
        trip = RoundTrip(conn)
        before = trip.read(COUNT, {"n": 10})
        trip.write(INSERT, [{"n": 1}, {"n": 2}, {"n": 30, "ignored": "x"}])
        trip.write(INSERT, [])  # nothing to write: not sent
        after = trip.read(COUNT, {"n": 10})
        tens = trip.read(text("SELECT n, n * 10 AS tens FROM round_trip_rows WHERE n > :n"), {"n": 1})
        trip.run()
        assert [row.rows for row in trip.rows(before)] == [0]
        assert [row.rows for row in trip.rows(after)] == [2]
        assert sorted((row.n, row.tens) for row in trip.rows(tens)) == [(2, 20), (30, 300)]


def test_a_failing_statement_fails_the_round_trip(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        conn.exec_driver_sql(TABLE)
    with pytest.raises(errors.UniqueViolation), engine.begin() as conn:
        trip = RoundTrip(conn)
        trip.write(INSERT, [{"n": 1}])
        trip.write(INSERT, [{"n": 1}])  # a duplicate key: the transaction rolls back
        trip.write(INSERT, [{"n": 2}])
        trip.run()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM round_trip_rows")).scalar_one() == 0
