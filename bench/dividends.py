"""Time declaring and distributing a fiat dividend to 100,000 holders (set-based SQL).

Usage: python bench/dividends.py [--holders N] [--chunk-size N] [--type fiat|stablecoin|token]
Uses ALEF_DATABASE_URL if set (it must point at an empty database), else a fresh embedded
PostgreSQL in a temporary directory, stopped afterwards. Target: declare + distribute of
100,000 holders under 10 s on a 2-core machine. Ends with `check` on the result.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from scratch_db import scratch_engine

from alefctl.db.schema import init_schema
from alefctl.ids import UUID_V7_SQL
from alefctl.settings import TradingSettings
from alefctl.workflows.actor import Actor, resolve_actor
from alefctl.workflows.dividends.declaration import NewDividend, declare
from alefctl.workflows.dividends.distribution import distribute
from alefctl.workflows.dividends.review import approve, submit
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.wallet import deposit

SEED_SQL = (
    # users, a business, a token in secondary trading, one confirmed allocation per holder.
    f"INSERT INTO users (id, email, full_name, role, kyc_status, kyc_level) SELECT {UUID_V7_SQL},"
    " 'holder' || n || '@bench.io', 'Holder ' || n, 'investor', 'approved', 2"
    " FROM generate_series(1, :holders) n;"
    f"INSERT INTO users (id, email, full_name, role, kyc_status, kyc_level) VALUES ({UUID_V7_SQL},"
    " 'issuer@bench.io', 'Bench Issuer', 'issuer', 'approved', 2),"
    f" ({UUID_V7_SQL}, 'admin@bench.io', 'Bench Admin', 'admin', 'none', 0);"
    f"INSERT INTO businesses (id, owner_id, company_name, registration_number, country, industry,"
    f" status) SELECT {UUID_V7_SQL}, id, 'Bench Farms', 'BENCH-1', 'AE', 'agriculture', 'active'"
    " FROM users WHERE email = 'issuer@bench.io';"
    f"INSERT INTO tokens (id, business_id, created_by, name, symbol, status, trading_mode,"
    " total_supply, price_per_token, primary_offering_pct, contract_address)"
    f" SELECT {UUID_V7_SQL}, b.id, b.owner_id, 'Bench', 'BENCH', 'secondary', 'full_orderbook',"
    " 1000000000, 10, 100, '0x' || repeat('be', 20) FROM businesses b;"
    f"INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type, status)"
    f" SELECT {UUID_V7_SQL}, t.id, u.id, 1 + (hashtext(u.email) & 1023), 'airdrop', 'confirmed'"
    " FROM users u, tokens t WHERE u.email LIKE 'holder%';"
    f"INSERT INTO wallets (id, user_id, token_id, balance) SELECT {UUID_V7_SQL}, user_id, token_id,"
    " quantity FROM token_allocations;"
)


def timed(label: str, step: Callable[[], Any], figures: list[tuple[str, float]]) -> Any:
    """Run one step, record and print its wall time."""
    start = time.perf_counter()
    result = step()
    figures.append((label, time.perf_counter() - start))
    print(f"{label:28} {figures[-1][1]:8.2f} s", flush=True)
    return result


def seed(engine: Engine, holders: int) -> tuple[Actor, Actor, Actor]:
    """Schema, holders and actors; the issuer gets enough fiat for any dividend."""
    with engine.begin() as conn:
        init_schema(conn)
        for statement in SEED_SQL.split(";"):
            if statement.strip():
                conn.execute(text(statement), {"holders": holders})
        conn.execute(text("ANALYZE"))
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
        deposit(conn, operator, "issuer@bench.io", "100000000")
        return (resolve_actor(conn, "issuer@bench.io", "cli"),
                resolve_actor(conn, "admin@bench.io", "cli"), operator)


def run(engine: Engine, holders: int, chunk_size: int, kind: str) -> None:
    """Seed, then time declare and distribute, then check the books."""
    figures: list[tuple[str, float]] = []
    issuer, admin, operator = timed(f"seed {holders:,} holders", lambda: seed(engine, holders), [])
    amounts = {"per_token_qty": 1} if kind == "token" else {"per_token_usd": "0.123457"}

    def declare_step() -> Any:
        with engine.begin() as conn:
            return declare(conn, issuer, NewDividend("BENCH", kind, **amounts),
                           fee_pct=TradingSettings().dividend_fee_pct)

    dividend = timed("declare (snapshot)", declare_step, figures)
    with engine.begin() as conn:
        submit(conn, issuer, str(dividend.id))
        approve(conn, admin, str(dividend.id))
    paid = timed("distribute", lambda: distribute(engine, admin, str(dividend.id), chunk_size),
                 figures)
    total = sum(seconds for _, seconds in figures)
    print(f"{'declare + distribute':28} {total:8.2f} s   (target < 10 s)")
    print(f"holders {paid.holder_count:,}, paid {paid.paid_count:,}, status {paid.status},"
          f" net {paid.total_net_usd} + fee {paid.total_fee_usd} + remainder"
          f" {paid.remainder_usd} = gross {paid.total_gross_usd}")
    def check_step() -> list[str]:
        with engine.begin() as conn:
            return [r.name for r in run_checks(conn, operator) if not r.ok]

    broken = timed("check (all invariants)", check_step, [])
    print("check: " + (", ".join(broken) + " FAILED" if broken else "all invariants hold"))
    assert paid.total_net_usd + paid.total_fee_usd + paid.remainder_usd == paid.total_gross_usd
    assert paid.status == "distributed" and not broken and isinstance(paid.total_net_usd, Decimal)


def main() -> None:
    """Parse the arguments, pick the database, run, clean up."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--holders", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--type", dest="kind", default="fiat", choices=("fiat", "stablecoin", "token"))
    args = parser.parse_args()
    with scratch_engine("dividends") as engine:
        run(engine, args.holders, args.chunk_size, args.kind)


if __name__ == "__main__":
    main()
