"""Demo stage 3c: a third token runs to maturity and is redeemed: four-eyes, every holder paid,
every token burned on-chain."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from alefctl.demo.report import DemoReport, acting
from alefctl.workflows import approvals
from alefctl.workflows.holders.jobs import run_agent_jobs
from alefctl.workflows.lifecycle import enable_secondary, retire, start_offering
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.redemption import request_redemption
from alefctl.workflows.tokens import NewToken, create_token
from alefctl.workflows.trading.funds import NotionalLimits

if TYPE_CHECKING:
    from chain import ChainClient

FINAL_NAV = "1.005"  # per token: 5 of bob's tokens make 5.025, paid 5.02 (the 0.005 stays)


def redemption_at_maturity(engine: Engine, report: DemoReport, client: ChainClient,
                           fee_bps: int, success_fee_pct: Decimal, limits: NotionalLimits) -> None:
    """The issuer's third token: sold, live, matured, then redeemed at its final NAV."""
    issuer, admin = acting(engine, report.email("ivan")), acting(engine, report.email("ada"))
    symbol = f"R{report.tag.upper()}"
    with engine.begin() as conn:
        create_token(conn, issuer, NewToken(str(report.token["business_id"]),
                                            "Oasis Date Farms III", symbol, 1_000, "10.00"),
                     default_fee_bps=fee_bps)
    deploy_token(engine, admin, symbol, client)
    with engine.begin() as conn:
        start_offering(conn, admin, symbol)
        subscribe(conn, acting(engine, report.email("alice")), symbol, 10)
        subscribe(conn, acting(engine, report.email("bob")), symbol, 5)
        confirm_payments(conn, admin, symbol)
    run_mint_jobs(engine, client)
    with engine.begin() as conn:
        enable_secondary(conn, admin, symbol, success_fee_pct)
    run_mint_jobs(engine, client)
    retire(engine, admin, symbol, "mature", limits)
    with engine.begin() as conn:
        planned = request_redemption(conn, admin, symbol, FINAL_NAV)
    done = approvals.approve(engine, acting(engine, report.email("bea")),
                             str(planned["approval_id"]))
    burned = run_agent_jobs(engine, client).done
    paid = done.result or {}
    report.step(f"{symbol} matured and redeemed at {FINAL_NAV}: {paid.get('holders')} holders"
                f" paid {paid.get('paid_total')} USD by the issuer (remainder"
                f" {paid.get('remainder')} stays with the issuer), {burned} burns on-chain")
