"""Builders for workflow tests: people with KYC done, an active business, a draft token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Engine

from alefctl.pii import PiiCipher
from alefctl.workflows.actor import Actor, resolve_actor
from alefctl.workflows.businesses import NewBusiness, register_business, review_business
from alefctl.workflows.kyc import KycSubmission, review_kyc, submit_kyc
from alefctl.workflows.tokens import NewToken, Token, create_token
from alefctl.workflows.users import NewUser, create_user
from alefctl.workflows.wallet import deposit

CIPHER = PiiCipher(b"nCwRrD6fLMYqYOzdFvfU1lFf0FUT7iIKxk6dk5KPp3o=")


@dataclass
class Platform:
    """Acting users of a test platform."""

    engine: Engine
    admin: Actor
    reviewer: Actor
    issuer: Actor

    def actor(self, email: str, source: str = "cli") -> Actor:
        """Resolve a user by email as an actor."""
        with self.engine.begin() as conn:
            return resolve_actor(conn, email, source)

    def person(self, name: str, role: str = "investor", wallet: str | None = None,
               country: str = "AE") -> Actor:
        """Create a user and return them as an actor."""
        with self.engine.begin() as conn:
            create_user(conn, self.admin, NewUser(f"{name}@x.io", name.title(), role, wallet, country))
        return self.actor(f"{name}@x.io")

    def approved(self, name: str, role: str = "investor", nationality: str = "AE", level: int = 2,
                 wallet: str | None = None, fiat: str | None = None) -> Actor:
        """A user whose KYC is approved, optionally with a wallet and money."""
        person = self.person(name, role, wallet)
        with self.engine.begin() as conn:
            application = submit_kyc(conn, person, KycSubmission(
                name.title(), nationality, "passport", f"P{name.upper()}1234"), CIPHER)
        with self.engine.begin() as conn:
            review_kyc(conn, self.reviewer, str(application.id), approve=True, kyc_level=level)
            if fiat:
                deposit(conn, self.admin, person.email, fiat)
        return person

    def business(self, allocation_pct: str = "5") -> str:
        """An active business of the issuer; returns its id."""
        with self.engine.begin() as conn:
            business = register_business(conn, self.issuer, NewBusiness(
                "Date Farms LLC", f"REG-{uuid.uuid4().hex[:12]}", "AE", "agriculture", allocation_pct))
            review_business(conn, self.admin, str(business.id), approve=True)
        return str(business.id)

    def draft_token(self, symbol: str = "DATE", supply: int = 10_000, price: str = "10.00",
                    primary_pct: str | None = "80", allocation_pct: str = "5",
                    team_pct: str | None = None, **extra: object) -> Token:
        """A draft token of a fresh active business; no team share unless asked (it would be
        minted to the issuer at go-live)."""
        business_id = self.business(allocation_pct)
        team = team_pct or "0"
        with self.engine.begin() as conn:
            return create_token(conn, self.issuer, NewToken(
                business_id, "Date Farms", symbol, supply, price, primary_pct, team, "0",
                **extra), default_fee_bps=50)


def build_platform(engine: Engine) -> Platform:
    """An admin, a KYC reviewer and an issuer with approved KYC."""
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
        create_user(conn, operator, NewUser("admin@x.io", "Ada Admin", "admin"))
        create_user(conn, operator, NewUser("reviewer@x.io", "Rita Reviewer", "kyc_reviewer"))
    with engine.begin() as conn:
        admin = resolve_actor(conn, "admin@x.io", "cli")
        reviewer = resolve_actor(conn, "reviewer@x.io", "cli")
    platform = Platform(engine, admin, reviewer, admin)
    platform.issuer = platform.approved("issuer", role="issuer")
    return platform


def live_token(platform: Platform, client, symbol: str = "DATE",  # noqa: ANN001
               holders: dict[str, int] | None = None, price: str = "10.00", **token: object) -> Token:
    """A deployed token trading on the order book, with holders from its primary offering.

    holders maps investor names (created with KYC, a wallet and $50,000) to tokens bought.
    """
    from alefctl.workflows.lifecycle import enable_secondary, start_offering
    from alefctl.workflows.offering import confirm_payments, subscribe
    from alefctl.workflows.onchain.deploy import deploy_token
    from alefctl.workflows.tokens import get_token

    platform.draft_token(symbol, price=price, **token)
    deploy_token(platform.engine, platform.admin, symbol, client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, symbol)
    for name, quantity in (holders or {}).items():
        investor = platform.approved(name, wallet=wallet_for(name), fiat="50000")
        with platform.engine.begin() as conn:
            subscribe(conn, investor, symbol, quantity)
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, symbol)
        enable_secondary(conn, platform.admin, symbol, Decimal("2"))
        return get_token(conn, symbol)


def wallet_for(name: str) -> str:
    """A deterministic checksummed wallet address for a test investor."""
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"test-wallet:{name}")[-20:])
