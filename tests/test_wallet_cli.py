"""`alefctl wallet`: deposits and withdrawals are audited, recorded and never overdraw."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def investor(cli) -> str:  # noqa: ANN001
    assert cli("user", "create", "--email", "w@x.io", "--name", "W").exit_code == 0
    return "w@x.io"


def test_deposit_withdraw_show(cli, investor, db_url) -> None:  # noqa: ANN001
    first = cli.json("wallet", "deposit", "--user", investor, "--amount", "1000")
    assert first["amount"] == "1000.00" and first["balance_after"] == "1000.00"
    cli.json("wallet", "deposit", "--user", investor, "--amount", "250.55", "--reference", "wire 7")
    out = cli.json("wallet", "withdraw", "--user", investor, "--amount", "0.55", "--yes")
    assert out["balance_after"] == "1250.00"
    view = cli.json("wallet", "show", "--user", investor)
    assert view["fiat_balance"] == "1250.00" and view["fiat_locked_in_orders"] == "0"
    assert [t["type"] for t in view["recent_transactions"]] == ["withdrawal", "deposit", "deposit"]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        ledger = conn.execute(text("SELECT sum(amount) FROM wallet_transactions")).scalar_one()
        audits = conn.execute(text("SELECT action FROM audit_logs ORDER BY created_at")).scalars()
        assert ledger == Decimal("1250.00")  # the ledger explains the balance to the cent
        assert list(audits)[-3:] == ["wallet.deposit", "wallet.deposit", "wallet.withdrawal"]
    engine.dispose()


@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "greater than zero"),
    ("0", "greater than zero"),
    ("1.001", "more than two decimal places"),
    ("abc", "not a number"),
    ("NaN", "finite"),
])
def test_bad_amounts_are_exit_2(cli, investor, amount, message) -> None:  # noqa: ANN001
    result = cli("wallet", "deposit", "--user", investor, "--amount", amount)
    assert result.exit_code == 2
    assert message in result.stderr


def test_overdraft_is_refused_and_nothing_moves(cli, investor) -> None:  # noqa: ANN001
    cli.json("wallet", "deposit", "--user", investor, "--amount", "10")
    result = cli("wallet", "withdraw", "--user", investor, "--amount", "10.01", "--yes")
    assert result.exit_code == 5
    assert result.stderr.strip() == (
        "error: w@x.io has 10.00 USD available to withdraw; cannot withdraw 10.01")
    view = cli.json("wallet", "show", "--user", investor)
    assert view["fiat_balance"] == "10.00" and len(view["recent_transactions"]) == 1


def test_unknown_user_and_permissions(cli, investor) -> None:  # noqa: ANN001
    assert cli("wallet", "deposit", "--user", "no@x.io", "--amount", "5").exit_code == 3
    denied = cli.as_user(investor)("wallet", "deposit", "--user", investor, "--amount", "5")
    assert denied.exit_code == 4
    assert cli.as_user(investor)("wallet", "show", "--user", investor).exit_code == 0
    assert cli.as_user(investor)("wallet", "show", "--user", "treasury@system.alefctl").exit_code == 4


def test_withdraw_needs_confirmation_without_a_terminal(cli, investor) -> None:  # noqa: ANN001
    cli.json("wallet", "deposit", "--user", investor, "--amount", "10")
    result = cli("wallet", "withdraw", "--user", investor, "--amount", "1")
    assert result.exit_code == 2 and "--yes" in result.stderr


def test_deposit_to_a_deactivated_user_is_refused(cli, investor) -> None:  # noqa: ANN001
    cli.json("user", "deactivate", investor, "--yes")
    result = cli("wallet", "deposit", "--user", investor, "--amount", "5")
    assert result.exit_code == 5 and "deactivated" in result.stderr
