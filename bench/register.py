"""Time the holder register at a past instant, a record-date dividend declaration, the cap
table at that instant and the `check` that the register sums to the outstanding supply, on
100,000 holders with 1,000,000 position changes.

Usage: python bench/register.py [--holders N] [--changes-per-holder N]
Uses ALEF_DATABASE_URL if set (it must point at an empty database), else a fresh embedded
PostgreSQL in a temporary directory, stopped afterwards. The holders are seeded as
bench/dividends.py seeds them (one allocation each, which the wallets' triggers record), then
each holder's history gets more changes, one a day over 20 days. Target: each step under 5 s.
The extra changes have no records behind them (no trades, no allocations), so the check
reports the bench token as a break: it is timed, not expected to hold here.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
from dividends import seed, timed  # noqa: E402
from scratch_db import scratch_engine  # noqa: E402

from alefctl.settings import TradingSettings  # noqa: E402
from alefctl.workflows.cap_table import cap_table  # noqa: E402
from alefctl.workflows.dividends.declaration import NewDividend, declare  # noqa: E402
from alefctl.workflows.invariants import run_checks  # noqa: E402
from alefctl.workflows.register import holder_register  # noqa: E402

HISTORY_SQL = (
    # the seeded allocations 21 days ago, then :per changes a holder (-1, +3, -1, ...), a day
    # apart; the wallets end on the last balance (their update trigger off while they are set)
    "UPDATE positions_history SET changed_at = now() - interval '21 days';"
    "INSERT INTO positions_history (token_id, user_id, change, balance, changed_at)"
    " SELECT w.token_id, w.user_id, c.change, w.balance + sum(c.change) OVER (PARTITION BY"
    " w.user_id ORDER BY c.k), now() - interval '21 days' + c.k * interval '1 day'"
    " + (hashtext(w.user_id::text) & 65535) * interval '1 ms' FROM wallets w CROSS JOIN LATERAL"
    " (SELECT k, CASE WHEN k % 2 = 1 THEN -1 ELSE 3 END AS change"
    " FROM generate_series(1, :per) k) c;"
    "ALTER TABLE wallets DISABLE TRIGGER wallets_history_update;"
    "UPDATE wallets w SET balance = h.balance FROM (SELECT DISTINCT ON (user_id) user_id, balance"
    " FROM positions_history ORDER BY user_id, changed_at DESC, id DESC) h"
    " WHERE h.user_id = w.user_id;"
    "ALTER TABLE wallets ENABLE TRIGGER wallets_history_update"
)


def run(engine: Engine, holders: int, per: int) -> None:
    """Seed, then time the register as of ten days ago and a dividend on that record date."""
    figures: list[tuple[str, float]] = []
    issuer, admin, _ = timed(f"seed {holders:,} holders", lambda: seed(engine, holders), [])
    timed(f"seed {holders * per:,} more changes", lambda: _history(engine, per), [])
    with engine.begin() as conn:
        changes = conn.execute(text("SELECT count(*) FROM positions_history")).scalar_one()
        as_of = conn.execute(text("SELECT now() - interval '10 days 12 hours'")).scalar_one()
    print(f"position changes: {changes:,}; as of {as_of.isoformat()}")

    def register_step():  # noqa: ANN202
        with engine.begin() as conn:
            return holder_register(conn, admin, "BENCH", as_of)

    register = timed("register as of 10.5 days ago", register_step, figures)

    def declare_step():  # noqa: ANN202
        with engine.begin() as conn:
            return declare(conn, issuer, NewDividend("BENCH", "fiat", "0.123457", record_date=as_of),
                           fee_pct=TradingSettings().dividend_fee_pct, snapshot_grace=timedelta(0))

    dividend = timed("declare at that record date", declare_step, figures)
    print(f"register: {len(register.holders):,} holders, {register.total_held:,} held;"
          f" dividend: {dividend.holder_count:,} holders, {dividend.total_held:,} held"
          "   (target < 5 s each)")
    assert dividend.holder_count == len(register.holders)
    assert dividend.total_held == register.total_held

    def cap_table_step():  # noqa: ANN202
        with engine.begin() as conn:
            return cap_table(conn, admin, "BENCH", as_of)

    table = timed("cap table at that instant", cap_table_step, figures)
    assert table.held == register.total_held and table.holder_count == len(register.holders)

    def check_step():  # noqa: ANN202
        with engine.begin() as conn:
            return run_checks(conn, admin, ["register_sums_to_outstanding"])

    [check] = timed("check register_sums_to_...", check_step, figures)
    print(f"cap table: {table.holder_count:,} holders, {table.held:,} held; check:"
          f" {len(check.violations)} token(s) reported (synthetic history)")


def _history(engine: Engine, per: int) -> None:
    with engine.begin() as conn:
        for statement in HISTORY_SQL.split(";"):
            conn.execute(text(statement), {"per": per})
    # what autovacuum does soon after a bulk load: statistics, and the visibility map that lets
    # index-only scans skip the table
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE positions_history, wallets, users"))


def main() -> None:
    """Parse the arguments, pick the database, run, clean up."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--holders", type=int, default=100_000)
    parser.add_argument("--changes-per-holder", type=int, default=9,
                        help="changes after each holder's allocation (default 9: 1,000,000 in all)")
    args = parser.parse_args()
    with scratch_engine("register") as engine:
        run(engine, args.holders, args.changes_per_holder)


if __name__ == "__main__":
    main()
