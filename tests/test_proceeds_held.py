"""Sale proceeds are held until the trade settled on-chain: they can be traded with at once, but
neither the investor's withdrawal request nor an admin's `wallet withdraw` pays them out, and a
failed settlement keeps holding them (workflows/proceeds.py)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text


def _alice_fiat(market) -> dict:  # noqa: ANN001
    return market.call("GET", "/api/v1/me/balances", "alice@x.io").json()["fiat"]


def _sell_ten(market) -> None:  # noqa: ANN001
    from server_client import place

    assert place(market, "alice", "sell", 10, "10.00").status_code == 201
    assert place(market, "carol", "buy", 10, "10.00").json()["status"] == "filled"


def test_an_admin_withdrawal_cannot_pay_out_unsettled_proceeds(market, cli) -> None:  # noqa: ANN001
    _sell_ten(market)
    fiat = _alice_fiat(market)
    assert fiat["held_until_settlement"] == "99.50"
    refused = cli("wallet", "withdraw", "--user", "alice@x.io", "--amount",
                  fiat["available"], "--yes")
    assert refused.exit_code == 5, refused.stderr
    assert "99.50 USD of sales not settled on-chain" in refused.stderr
    assert _alice_fiat(market)["available"] == fiat["available"]  # nothing moved
    allowed = Decimal(fiat["available"]) - Decimal("99.50")
    assert f"{allowed:,} USD available to withdraw" in refused.stderr
    paid = cli("wallet", "withdraw", "--user", "alice@x.io", "--amount", "100.00", "--yes")
    assert paid.exit_code == 0, paid.stderr


def test_a_failed_settlement_keeps_holding_the_proceeds(market, cli) -> None:  # noqa: ANN001
    _sell_ten(market)
    with market.engine.begin() as conn:
        conn.execute(text("UPDATE trades SET settlement_status = 'failed',"
                          " settlement_error = 'seller frozen on-chain'"))
    assert _alice_fiat(market)["held_until_settlement"] == "99.50"
    asked = market.call("POST", "/api/v1/me/withdrawals", "alice@x.io",
                        json={"amount": _alice_fiat(market)["available"]})
    assert asked.status_code == 409 and asked.json()["code"] == "insufficient_funds"
    assert cli("wallet", "withdraw", "--user", "alice@x.io", "--amount", "0.01", "--yes").exit_code == 0
    checked = cli.json("check", "--only", "withdrawals_exclude_unsettled_sales")
    assert checked["ok"] is True, checked


def test_check_finds_proceeds_paid_out_before_settlement(market, cli) -> None:  # noqa: ANN001
    _sell_ten(market)
    available = _alice_fiat(market)["available"]
    with market.engine.begin() as conn:  # what a path that ignored the rule would have done
        conn.execute(text("UPDATE users SET fiat_balance = 0 WHERE email = 'alice@x.io'"))
        conn.execute(text(
            "INSERT INTO wallet_transactions (id, user_id, type, amount, status) SELECT"
            " gen_random_uuid(), id, 'withdrawal', -CAST(:a AS numeric), 'completed' FROM users"
            " WHERE email = 'alice@x.io'"), {"a": available})
    broken = cli("check", "--only", "withdrawals_exclude_unsettled_sales", "--json")
    assert broken.exit_code == 1
    assert "alice@x.io" in broken.stdout
