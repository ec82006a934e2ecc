"""Time the order path's investment-limit read: one buyer's 12-month sum (subscriptions, buy
trades, open buys, OTC buys) in the query the order group runs in its one round trip.

Usage: python bench/investment_limit.py [--buyers N] [--per-buyer N]
Uses ALEF_DATABASE_URL if set (it must point at an empty database), else a fresh embedded
PostgreSQL in a temporary directory, stopped afterwards. Prints the median time of the read for
a buyer with --per-buyer trades in the window (among --buyers such buyers) and for one with none.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine
from scratch_db import scratch_engine

from alefctl.db.schema import init_schema
from alefctl.ids import UUID_V7_SQL
from alefctl.workflows.investment_limits import INVESTED, invested_params

SEED_SQL = (
    # :buyers investors with one partly filled buy order and :per_buyer buy trades each over the
    # last months, one seller, one investor who never bought, a token in secondary trading.
    f"INSERT INTO users (id, email, full_name, role, kyc_status, kyc_level) SELECT {UUID_V7_SQL},"
    " 'buyer' || n || '@bench.io', 'Buyer ' || n, 'investor', 'approved', 3"
    " FROM generate_series(1, :buyers) n;"
    f"INSERT INTO users (id, email, full_name, role, kyc_status, kyc_level) SELECT {UUID_V7_SQL},"
    " name || '@bench.io', name, 'investor', 'approved', 3 FROM unnest(ARRAY['light', 'seller',"
    " 'issuer']) name;"
    f"INSERT INTO businesses (id, owner_id, company_name, registration_number, country, industry,"
    f" status) SELECT {UUID_V7_SQL}, id, 'Bench Farms', 'BENCH-1', 'AE', 'agriculture', 'active'"
    " FROM users WHERE email = 'issuer@bench.io';"
    f"INSERT INTO tokens (id, business_id, created_by, name, symbol, status, trading_mode,"
    " total_supply, price_per_token, primary_offering_pct, contract_address)"
    f" SELECT {UUID_V7_SQL}, b.id, b.owner_id, 'Bench', 'BENCH', 'secondary', 'full_orderbook',"
    " 1000000000, 10, 100, '0x' || repeat('be', 20) FROM businesses b;"
    f"INSERT INTO orders (id, user_id, token_id, side, order_type, price, quantity, status,"
    f" locked_fiat) SELECT {UUID_V7_SQL}, u.id, t.id, CASE WHEN u.email = 'seller@bench.io'"
    " THEN 'sell' ELSE 'buy' END, 'limit', 10, 1000000, 'partially_filled', 10 FROM users u,"
    " tokens t WHERE u.email LIKE 'buyer%' OR u.email = 'seller@bench.io';"
    f"INSERT INTO trades (id, token_id, buy_order_id, sell_order_id, buyer_id, seller_id,"
    " taker_side, price, quantity, total, created_at) SELECT gen_random_uuid(), b.token_id, b.id,"
    " s.id, b.user_id, s.user_id, 'buy', 10, 1, 10, now() - (n * 7 || ' minutes')::interval"
    " FROM orders b, orders s, generate_series(1, :per_buyer) n WHERE b.side = 'buy'"
    " AND s.side = 'sell';"
    "ANALYZE;"
)


def median_ms(engine: Engine, email: str, runs: int = 50) -> float:
    """The read's median wall time for one buyer, in milliseconds."""
    with engine.connect() as conn:
        user_id = conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar_one()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            conn.execute(INVESTED, invested_params([user_id], datetime.now().astimezone())).all()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    """Seed, measure, print, clean up."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, default=1_000)
    parser.add_argument("--per-buyer", type=int, default=1_000)
    args = parser.parse_args()
    with scratch_engine("limits") as engine:
        with engine.begin() as conn:
            init_schema(conn)
            for statement in SEED_SQL.split(";"):
                if statement.strip():
                    conn.execute(text(statement), {"buyers": args.buyers,
                                                   "per_buyer": args.per_buyer})
        print(f"investment read, a buyer with {args.per_buyer:,} buy trades in 12 months (of"
              f" {args.buyers * args.per_buyer:,} trades): {median_ms(engine, 'buyer1@bench.io'):.2f}"
              " ms (median of 50)")
        print(f"investment read, buyer with none: {median_ms(engine, 'light@bench.io'):.2f} ms")


if __name__ == "__main__":
    main()
