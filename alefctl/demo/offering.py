"""Demo stage 3: the primary offering, payment confirmation, minting, and go-live."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from alefctl.demo.report import DemoReport, acting
from alefctl.errors import AlefError
from alefctl.workflows.lifecycle import enable_secondary, start_offering
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.onchain.views import holder_balances

if TYPE_CHECKING:
    from chain import ChainClient

SUBSCRIPTIONS = (("alice", 500), ("bob", 300), ("carol", 1000), ("dave", 100), ("erin", 400))


def primary_offering(engine: Engine, report: DemoReport, client: ChainClient,
                     success_fee_pct: Decimal) -> None:
    """Subscriptions (one refused), confirmation, on-chain mint, secondary trading enabled."""
    symbol = report.token["symbol"]
    admin = acting(engine, report.email("ada"))
    with engine.begin() as conn:
        start_offering(conn, admin, symbol)
    for short, quantity in SUBSCRIPTIONS:
        try:
            with engine.begin() as conn:
                subscribe(conn, acting(engine, report.email(short)), symbol, quantity)
            report.step(f"{short} subscribed {quantity} {symbol}")
        except AlefError as refused:
            report.step(f"{short} refused: {refused.message}")
    with engine.begin() as conn:
        confirmed = confirm_payments(conn, admin, symbol)
    report.step(f"admin confirmed {len(confirmed)} allocations")
    mints = run_mint_jobs(engine, client)
    report.step(f"on-chain allocation: identities registered, {mints.minted} allocations minted")
    with engine.begin() as conn:
        live = enable_secondary(conn, admin, symbol, success_fee_pct)
    mints = run_mint_jobs(engine, client)
    report.step(f"secondary trading enabled: treasury got {live['treasury_allocation']} tokens"
                f" (minted: {mints.minted}), success fee {live['success_fee']} USD, issuer"
                f" proceeds {live['issuer_proceeds']} USD")
    report.positions = positions(engine, client, report.token)


def positions(engine: Engine, client: ChainClient, token: dict) -> list[dict]:
    """Each holder's balance in the database next to balanceOf on the chain."""
    with engine.connect() as conn:
        rows = holder_balances(conn, token["id"])
    unit = 10 ** token["decimals"]
    return [{"email": r.email, "wallet": r.wallet_address, "db_balance": r.balance,
             "chain_balance": client.balance_of(token["contract_address"], r.wallet_address) // unit}
            for r in rows]

