"""Demo stage 2: KYC for the issuer and the investors, the business, the token and its deploy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from alefctl.demo.people import INVESTORS
from alefctl.demo.report import DemoReport, acting
from alefctl.pii import PiiCipher
from alefctl.workflows.businesses import NewBusiness, register_business, review_business
from alefctl.workflows.kyc import KycSubmission, review_kyc, submit_kyc
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.tokens import NewToken, create_token

if TYPE_CHECKING:
    from chain import ChainClient

NATIONALITY = {"alice": "AE", "bob": "GB", "carol": "SG", "dave": "US", "erin": "DE", "ivan": "AE"}


def onboarding(engine: Engine, report: DemoReport, cipher: PiiCipher, client: ChainClient,
               fee_bps: int) -> None:
    """KYC reviewed, business approved, token created and deployed on the chain."""
    reviewer = acting(engine, report.email("rita"))
    for short in ("ivan", *(name for name, *_ in INVESTORS)):
        person = acting(engine, report.email(short))
        with engine.begin() as conn:
            application = submit_kyc(conn, person, KycSubmission(
                short.title(), NATIONALITY[short], "passport", f"P{report.tag.upper()}{short}"),
                cipher)
            # level 3, institutional: up to $50,000 invested a year (subscriptions and buys)
            review_kyc(conn, reviewer, str(application.id), approve=True, kyc_level=3)
    report.step("KYC approved for the issuer and 5 investors (dave is a US person: FATCA blocked)")
    issuer, admin = acting(engine, report.email("ivan")), acting(engine, report.email("ada"))
    with engine.begin() as conn:
        business = register_business(conn, issuer, NewBusiness(
            "Oasis Date Farms LLC", f"DUBAI-{report.tag.upper()}", "AE", "agriculture", "5"))
        review_business(conn, admin, str(business.id), approve=True)
    report.step("business Oasis Date Farms LLC registered and approved (5% to the treasury)")
    symbol = f"D{report.tag.upper()}"
    with engine.begin() as conn:
        create_token(conn, issuer, NewToken(
            # no --primary-pct: the offering is what the platform's 5% leaves (95%)
            str(business.id), "Oasis Date Farms", symbol, 100_000, "10.00", None, "0", "0",
            min_investment=10), default_fee_bps=fee_bps)
    result = deploy_token(engine, admin, symbol, client)
    report.token = result["token"]
    report.step(f"token {symbol} created and deployed: {len(result['steps'])} transactions,"
                f" {result['total_gas_used']:,} gas, contract {result['token']['contract_address']}")

