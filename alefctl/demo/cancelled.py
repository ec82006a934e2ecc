"""Demo stage 3b: a second offering, cancelled: every subscriber refunded, minted tokens burned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from alefctl.demo.report import DemoReport, acting
from alefctl.workflows.lifecycle import start_offering
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.offering_admin import cancel_offering
from alefctl.workflows.onchain.burning import run_burn_jobs
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.tokens import NewToken, create_token

if TYPE_CHECKING:
    from chain import ChainClient


def cancelled_offering(engine: Engine, report: DemoReport, client: ChainClient,
                       fee_bps: int) -> None:
    """The issuer's second token: alice pays, bob subscribes, the admin cancels the offering."""
    issuer, admin = acting(engine, report.email("ivan")), acting(engine, report.email("ada"))
    symbol = f"C{report.tag.upper()}"
    with engine.begin() as conn:
        create_token(conn, issuer, NewToken(
            str(report.token["business_id"]), "Oasis Date Farms II", symbol, 10_000, "10.00",
            soft_cap="50000.00"), default_fee_bps=fee_bps)
    deploy_token(engine, admin, symbol, client)
    with engine.begin() as conn:
        start_offering(conn, admin, symbol)
        paid = subscribe(conn, acting(engine, report.email("alice")), symbol, 20)
        subscribe(conn, acting(engine, report.email("bob")), symbol, 10)
        confirm_payments(conn, admin, symbol, [str(paid.id)])
    minted = run_mint_jobs(engine, client).minted
    with engine.begin() as conn:
        result = cancel_offering(conn, admin, symbol, "the issuer withdrew the offering")
    burned = run_burn_jobs(engine, client).burned
    report.step(f"offering {symbol} cancelled: {len(result['refunds'])} subscriptions refunded"
                f" ({result['refunded']} USD); allocations minted {minted}, burned {burned}")
