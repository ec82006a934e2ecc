"""Time `alefctl audit verify` on 1,000,000 audit rows, and what the chain costs to build.

Usage: .venv/bin/python bench/audit_verify.py [--rows N] [--actions N]
Uses ALEF_DATABASE_URL if set (it must point at an empty database), else a fresh embedded
PostgreSQL in a temporary directory, stopped afterwards.

Steps: the schema as it was before the audit_chain migration; N audit rows inserted in one
set-based statement; that migration, whose genesis seals them into the chain; VACUUM ANALYZE; audited
transactions with the seal and, alternating with them, without it (the cost per audited
action); then the verify of `alefctl audit verify` (rows streamed from a server-side cursor,
every hash recomputed in Python), and for comparison the same checks done by the database in
one set-based query. Target: 1M rows in seconds, not minutes, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from alefctl.db import audit
from alefctl.db.schema import init_schema, migrations
from alefctl.ids import UUID_V7_SQL

CHAIN_VERSION = next(m.version for m in migrations() if m.name == "audit_chain")
ACTORS = 50
SEED_SQL = (
    f"INSERT INTO users (id, email, full_name, role) SELECT {UUID_V7_SQL},"
    " 'staff' || n || '@bench.io', 'Staff ' || n, 'admin' FROM generate_series(1, :actors) n;"
    # one row per action: realistic actors, actions, objects and before/after documents, over
    # the last year, oldest first
    "INSERT INTO audit_logs (id, actor_id, action, object_type, object_id, before, after, source,"
    " created_at)"
    f" SELECT {UUID_V7_SQL}, (SELECT array_agg(id) FROM users WHERE email LIKE 'staff%')"
    "[1 + n % :actors], (ARRAY['wallet.deposit', 'kyc.approve', 'token.set_nav', 'user.create',"
    " 'otc.approve'])[1 + n % 5], 'user', gen_random_uuid(),"
    " CASE WHEN n % 3 = 0 THEN jsonb_build_object('status', 'pending') END,"
    " jsonb_build_object('amount', (n % 100000)::text || '.' || lpad((n % 100)::text, 2, '0'),"
    " 'email', 'holder' || n || '@bench.io', 'reference', 'wire ' || n, 'balance_after',"
    " (n % 7777)::text || '.00'), (ARRAY['cli', 'console', 'api', 'worker'])[1 + n % 4],"
    " now() - interval '365 days' + interval '365 days' * (n::float8 / :rows)"
    " FROM generate_series(1, :rows) n;"
)
# The checks of verify done by the database instead, set-based so that they run in parallel
# workers: every row's hash recomputed, every row linked to the one before it.
SQL_WALK = (
    "SELECT count(*), count(*) FILTER (WHERE a.row_hash <> sha256(a.prev_hash"
    " || audit_chain_message(a)) OR a.prev_hash IS DISTINCT FROM coalesce(p.row_hash,"
    " CASE WHEN a.seq = 1 THEN decode(repeat('00', 32), 'hex') END))"
    " FROM audit_logs a LEFT JOIN audit_logs p ON p.seq = a.seq - 1 WHERE a.seq IS NOT NULL"
)
# audit_logs without the chain's triggers (and without rows), for the cost of the seal.
PLAIN_COPY_SQL = (
    "CREATE SCHEMA bench_plain;"
    " CREATE TABLE bench_plain.audit_logs (LIKE public.audit_logs INCLUDING DEFAULTS"
    " INCLUDING CONSTRAINTS INCLUDING INDEXES);"
    " ALTER TABLE bench_plain.audit_logs ADD FOREIGN KEY (actor_id) REFERENCES public.users (id)"
)


def timed(label: str, step, unit_count: int | None = None):  # noqa: ANN001, ANN201
    """Run one step and print its wall time (and a rate)."""
    start = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - start
    rate = f"   {unit_count / seconds:12,.0f} rows/s" if unit_count else ""
    print(f"{label:44} {seconds:8.2f} s{rate}", flush=True)
    return result, seconds


def before_the_chain(folder: Path) -> Path:
    """A copy of the migrations older than the chain."""
    source = Path(audit.__file__).with_name("migrations")
    folder.mkdir()
    for migration in migrations():
        if migration.version < CHAIN_VERSION:
            name = f"{migration.version:04d}_{migration.name}.sql"
            shutil.copy(source / name, folder / name)
    return folder


def per_action_cost(engine: Engine, count: int) -> tuple[float, float]:
    """Median seconds of an audited transaction (one audit row, then COMMIT) sealed at commit,
    and of the same transaction on a copy of audit_logs without the chain's triggers. The two
    alternate, so both see the same machine (it is shared)."""
    with engine.begin() as conn:
        conn.execute(text(PLAIN_COPY_SQL))
        actor = conn.execute(text("SELECT id FROM users WHERE email = 'staff1@bench.io'")).scalar()
    times: dict[str, list[float]] = {"sealed": [], "plain": []}
    with engine.connect() as sealed, engine.connect() as plain:
        plain.exec_driver_sql("SET search_path = bench_plain, public")
        plain.commit()
        for i in range(count):
            for label, conn in (("sealed", sealed), ("plain", plain)):
                start = time.perf_counter()
                with conn.begin():
                    audit.write_audit(conn, actor_id=actor, source="cli", action="bench.action",
                                      object_type="user", object_id=actor,
                                      after={"amount": f"{i}.00", "email": "x@bench.io"})
                times[label].append(time.perf_counter() - start)
        plain.exec_driver_sql("RESET search_path")  # the connection goes back to the pool
        plain.commit()
    return statistics.median(times["sealed"]), statistics.median(times["plain"])


def run(engine: Engine, rows: int, actions: int, scratch: Path) -> None:
    """Seed, seal, measure per-action cost, verify."""
    with engine.begin() as conn:
        init_schema(conn, before_the_chain(scratch / "migrations"))

    def seed() -> None:
        with engine.begin() as conn:
            for statement in SEED_SQL.split(";"):
                if statement.strip():
                    conn.execute(text(statement), {"actors": ACTORS, "rows": rows})

    timed(f"insert {rows:,} rows (set-based)", seed, rows)

    def migrate() -> list[str]:
        with engine.begin() as conn:
            return init_schema(conn).applied

    timed("audit_chain migration: genesis seals them", migrate, rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        timed("VACUUM ANALYZE audit_logs", lambda: conn.execute(text("VACUUM ANALYZE audit_logs")))
    sealed, plain = per_action_cost(engine, actions)
    print(f"{'audited transaction, sealed at commit':44} {sealed * 1000:8.2f} ms (median)")
    print(f"{'the same without the chain':44} {plain * 1000:8.2f} ms"
          f"   (the seal: {(sealed - plain) * 1e6:+.0f} us per action)")

    total = rows + actions

    def python_verify() -> audit.ChainReport:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return audit.verify(conn)

    report, seconds = timed(f"verify {total:,} rows (streamed, Python sha256)", python_verify,
                            total)
    assert report.ok and report.rows == total, report

    def sql_walk() -> tuple[int, int]:
        with engine.connect() as conn:
            return tuple(conn.execute(text(SQL_WALK)).one())

    (count, bad), _ = timed("the same checks in one SQL query (comparison)", sql_walk, total)
    assert (count, bad) == (total, 0)

    from alefctl.workflows.dashboard import audit_log

    def newest() -> int:
        with engine.connect() as conn:
            return len(audit_log(conn, limit=100, action_prefix="kyc.",
                                 actor_email="staff7@bench.io"))

    timed("audit list --actor --action --limit 100", newest)
    print(f"verify: {total:,} rows in {seconds:.2f} s = {total / seconds:,.0f} rows/s;"
          f" chain intact, head #{report.head_seq} {report.head_hash[:16]}...")


def main() -> None:
    """Parse the arguments, pick the database, run, clean up."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--actions", type=int, default=500,
                        help="audited transactions timed with and without the seal")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="alef-bench-audit-"))
    url = os.environ.get("ALEF_DATABASE_URL")
    pgdata = None
    if url is None:
        from alefctl.db import embedded

        pgdata = scratch / "pgdata"
        url = embedded.embedded_url(pgdata)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        run(engine, args.rows, args.actions, scratch)
    finally:
        engine.dispose()
        if pgdata is not None:
            from alefctl.db import embedded

            embedded.stop(pgdata)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
