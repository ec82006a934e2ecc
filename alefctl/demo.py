"""`alefctl demo`: the platform's lifecycle as a scripted scenario on the configured parts.

Each run uses a fresh tag in emails so that it can be repeated on the same database.
Stage 1 (this file's first part): the platform's people and their money.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from alefctl.workflows.actor import resolve_actor
from alefctl.workflows.users import NewUser, User, create_user, get_user
from alefctl.workflows.wallet import deposit

STAFF = (
    # short name, full name, role, country
    ("ada", "Ada Admin", "admin", "AE"),
    ("rita", "Rita Reviewer", "kyc_reviewer", "AE"),
    ("ivan", "Ivan Issuer", "issuer", "AE"),
)
INVESTORS = (
    # short name, full name, country, opening deposit in USD
    ("alice", "Alice Investor", "AE", Decimal("25000.00")),
    ("bob", "Bob Investor", "GB", Decimal("10000.00")),
    ("carol", "Carol Investor", "SG", Decimal("50000.00")),
    ("dave", "Dave Investor", "US", Decimal("5000.00")),
    ("erin", "Erin Investor", "DE", Decimal("15000.00")),
)


@dataclass
class DemoReport:
    """What the demo did, stage by stage, for printing or JSON."""

    tag: str
    users: list[User] = field(default_factory=list)
    deposits: list[dict[str, Any]] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"tag": self.tag, "users": [u.to_dict() for u in self.users],
                "deposits": self.deposits, "steps": self.steps}


def demo_wallet_address(tag: str, name: str) -> str:
    """A deterministic, valid EVM address for a demo investor."""
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"alefctl-demo:{tag}:{name}")[-20:])


def run_demo(engine: Engine, say: Callable[[str], None]) -> DemoReport:
    """Run every stage of the demo that exists, reporting progress through say()."""
    report = DemoReport(tag=secrets.token_hex(3))
    _stage_people_and_money(engine, report, say)
    return report


def _stage_people_and_money(engine: Engine, report: DemoReport, say: Callable[[str], None]) -> None:
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
        for short, full_name, role, country in STAFF:
            new = NewUser(f"{short}.{report.tag}@demo.alefctl", full_name, role, None, country)
            report.users.append(create_user(conn, operator, new))
        for short, full_name, country, _amount in INVESTORS:
            wallet = demo_wallet_address(report.tag, short)
            new = NewUser(f"{short}.{report.tag}@demo.alefctl", full_name, "investor", wallet,
                          country)
            report.users.append(create_user(conn, operator, new))
    report.steps.append(f"created {len(STAFF)} staff users and {len(INVESTORS)} investors")
    say(report.steps[-1])
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
        for short, _name, _country, amount in INVESTORS:
            movement = deposit(conn, operator, f"{short}.{report.tag}@demo.alefctl", amount,
                               "demo opening deposit")
            report.deposits.append(movement.to_dict())
        report.users = [get_user(conn, str(user.id)) for user in report.users]
    total = sum((d["amount"] for d in report.deposits), Decimal(0))
    report.steps.append(f"deposited {total:,} USD across {len(report.deposits)} investors")
    say(report.steps[-1])
