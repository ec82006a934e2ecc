"""Run every stage of the demo in order."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy.engine import Engine

from alefctl.demo.cancelled import cancelled_offering
from alefctl.demo.closing import settle_pay_and_verify
from alefctl.demo.offering import primary_offering
from alefctl.demo.onboarding import onboarding
from alefctl.demo.people import people_and_money
from alefctl.demo.redemption import redemption_at_maturity
from alefctl.demo.report import DemoReport
from alefctl.demo.trading import trading
from alefctl.settings import Settings
from alefctl.workflows.trading.funds import NotionalLimits


def run_demo(engine: Engine, settings: Settings, say: Callable[[str], None]) -> DemoReport:
    """The platform's lifecycle on the configured database and chain."""
    from alefctl.chain_access import chain_errors, open_chain
    from alefctl.pii import load_cipher

    report = DemoReport(tag=secrets.token_hex(3), say=say)
    people_and_money(engine, report)
    with open_chain(settings) as client, chain_errors():
        onboarding(engine, report, load_cipher(settings), client, settings.trading.default_fee_bps)
        primary_offering(engine, report, client, settings.trading.success_fee_pct)
        cancelled_offering(engine, report, client, settings.trading.default_fee_bps)
        redemption_at_maturity(engine, report, client, settings.trading.default_fee_bps,
                               settings.trading.success_fee_pct,
                               NotionalLimits.from_settings(settings.trading))
    trading(engine, report, settings)
    with open_chain(settings) as client, chain_errors():
        settle_pay_and_verify(engine, report, client, settings.trading.dividend_fee_pct,
                              settings.dividends.treasury_earns)
    return report
