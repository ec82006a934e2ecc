"""Demo stage 1: the platform's staff and investors, and the investors' opening deposits."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Engine

from alefctl.demo.report import DemoReport
from alefctl.workflows.actor import resolve_actor
from alefctl.workflows.users import NewUser, create_user, get_user
from alefctl.workflows.wallet import deposit

STAFF = (
    # short name, full name, role, country
    ("ada", "Ada Admin", "admin", "AE"),
    ("bea", "Bea Checker", "admin", "AE"),  # the second admin of four-eyes approvals
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


def demo_wallet_address(tag: str, name: str) -> str:
    """A deterministic, valid EVM address for a demo investor."""
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(keccak(text=f"alefctl-demo:{tag}:{name}")[-20:])


def people_and_money(engine: Engine, report: DemoReport) -> None:
    """Create staff and investors, and fund the investors."""
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
        for short, full_name, role, country in STAFF:
            new = NewUser(report.email(short), full_name, role, None, country)
            report.users.append(create_user(conn, operator, new))
        for short, full_name, country, _amount in INVESTORS:
            new = NewUser(report.email(short), full_name, "investor",
                          demo_wallet_address(report.tag, short), country)
            report.users.append(create_user(conn, operator, new))
    report.step(f"created {len(STAFF)} staff users and {len(INVESTORS)} investors")
    with engine.begin() as conn:
        operator = resolve_actor(conn, None, "cli")
        for short, _name, _country, amount in INVESTORS:
            movement = deposit(conn, operator, report.email(short), amount, "demo opening deposit")
            report.deposits.append(movement.to_dict())
        report.users = [get_user(conn, str(user.id)) for user in report.users]
    total = sum((d["amount"] for d in report.deposits), Decimal(0))
    report.step(f"deposited {total:,} USD across {len(report.deposits)} investors")
