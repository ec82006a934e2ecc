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


def test_columns_arrive_as_sent_in_every_declared_type(engine) -> None:  # noqa: ANN001
    import uuid
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    columns = {
        "u": ("uuid", [uuid.UUID(int=0), None, uuid.UUID("01a23200-b415-7b31-a175-b8fb9ea244c3")]),
        "b": ("bigint", [0, -1, 2**63 - 1]),
        "i": ("int", [-(2**31), None, 7]),
        "t": ("text", ["", "é€😀 'quoted' \"x\" \\", None]),
        "n": ("numeric", [Decimal("-0.01"), Decimal("12345678901234567890.123456"), None]),
        "ts": ("timestamptz", [datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), None,
                               datetime(2026, 12, 1, 15, 0, tzinfo=UTC) + timedelta(microseconds=1)]),
    }
    echo = row_set("CREATE TEMP TABLE echo AS SELECT * FROM {rows}",
                   **{name: sql_type for name, (sql_type, _) in columns.items()})
    with engine.begin() as conn:
        trip = RoundTrip(conn)
        trip.write(echo, [{name: values[k] for name, (_, values) in columns.items()} for k in range(3)])
        trip.run()
        got = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM echo").all()
        assert [tuple(row) for row in got] == [tuple(values[k] for _, values in columns.values())
                                              for k in range(3)]
        assert conn.exec_driver_sql("SELECT pg_typeof(n)::text, scale(n) FROM echo LIMIT 1").one() \
            == ("numeric", 2)  # exact decimals, not floats
