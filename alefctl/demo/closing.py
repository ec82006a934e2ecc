"""Demo stage 5: on-chain settlement of the trades, a fiat dividend, reconcile and check."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from alefctl.demo.offering import positions
from alefctl.demo.report import DemoReport, acting
from alefctl.workflows.dividends.declaration import NewDividend, declare
from alefctl.workflows.dividends.distribution import distribute
from alefctl.workflows.dividends.review import approve, submit
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.reconcile import reconcile
from alefctl.workflows.settlement.runner import drain_settlement

if TYPE_CHECKING:
    from chain import ChainClient


def settle_pay_and_verify(engine: Engine, report: DemoReport, client: ChainClient,
                          dividend_fee_pct: Decimal, treasury_earns: bool = False) -> None:
    """Trades settled on-chain, a dividend paid (the platform's fee from settings), then
    database and chain must agree."""
    symbol = report.token["symbol"]
    admin, issuer = acting(engine, report.email("ada")), acting(engine, report.email("ivan"))
    settled = drain_settlement(engine, client)
    report.step(f"settlement: {settled.settled_on_chain} trades settled on-chain in"
                f" {settled.transactions} batchForcedTransfer transaction(s)")
    with engine.begin() as conn:
        dividend = declare(conn, issuer, NewDividend(symbol, "fiat", per_token_usd="0.10"),
                           fee_pct=dividend_fee_pct, treasury_earns=treasury_earns)
        submit(conn, issuer, str(dividend.id))
        approve(conn, admin, str(dividend.id))
    paid = distribute(engine, admin, str(dividend.id))
    report.step(f"fiat dividend of 0.10 USD per token: {paid.holder_count} holders,"
                f" {paid.total_net_usd} USD net, {paid.total_fee_usd} USD fee to the treasury")
    report.positions = positions(engine, client, report.token)
    results = reconcile(engine, admin, client, symbol)
    breaks = sum(len(result.breaks) for result in results)
    report.step(f"reconcile {symbol} against the chain: {breaks} breaks"
                + ("" if breaks else " (clean)"))
    with engine.connect() as conn:
        checks = run_checks(conn, admin)
    failing = [check.name for check in checks if not check.ok]
    report.step(f"check: {len(checks)} invariants and job checks, "
                + (f"violated: {', '.join(failing)}" if failing else "all hold"))
    report.verified = all(result.ok for result in results) and not failing

