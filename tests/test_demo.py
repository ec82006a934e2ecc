"""`alefctl demo`: creates the platform's users and funds investors; can be run again."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import create_engine, text


def test_demo_creates_users_and_funds_investors(cli, db_url) -> None:  # noqa: ANN001
    report = cli.json("demo")
    investors = [u for u in report["users"] if u["role"] == "investor"]
    assert len(investors) == 5 and all(u["wallet_address"] for u in investors)
    assert {u["role"] for u in report["users"]} == {"admin", "kyc_reviewer", "issuer", "investor"}
    total = sum(Decimal(d["amount"]) for d in report["deposits"])
    engine = create_engine(db_url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT sum(fiat_balance) FROM users")).scalar_one()
        ledger = conn.execute(text("SELECT sum(amount) FROM wallet_transactions")).scalar_one()
    engine.dispose()
    assert held == ledger == total == Decimal("105000.00")
    again = cli.json("demo")  # a second run does not collide with the first
    assert again["tag"] != report["tag"]


def test_demo_prints_a_summary(cli) -> None:  # noqa: ANN001
    result = cli("demo")
    assert result.exit_code == 0, result.stderr
    assert "deposited 105,000.00 USD across 5 investors" in result.stdout
