"""Stablecoin (USDC) balances are deposited and withdrawn like fiat: `wallet deposit|withdraw
--currency`, the four-eyes threshold (USDC counted 1:1), never beyond the free balance of that
currency, the investor's withdrawal request end to end, USD's pending amounts count no USDC,
and `check` / `reconcile` stay green."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

INVESTOR = "w@x.io"


@pytest.fixture
def investor(cli) -> str:  # noqa: ANN001
    assert cli("user", "create", "--email", INVESTOR, "--name", "W").exit_code == 0
    return INVESTOR


def _balances(engine, email: str = INVESTOR) -> tuple[Decimal, Decimal]:  # noqa: ANN001
    """(fiat, USDC) of a user."""
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT u.fiat_balance, coalesce(b.balance, 0) FROM users u LEFT JOIN user_balances b"
            " ON b.user_id = u.id AND b.currency = 'USDC' WHERE u.email = :e"), {"e": email}).one()


def test_cli_deposits_and_withdraws_usdc_apart_from_fiat(cli, investor, engine) -> None:  # noqa: ANN001
    cli.json("wallet", "deposit", "--user", investor, "--amount", "40")
    first = cli("wallet", "deposit", "--user", investor, "--amount", "1000", "--currency", "USDC",
                "--reference", "tx 0xabc")
    assert first.exit_code == 0, first.stderr
    assert "deposited 1000.00 USDC to w@x.io; USDC balance 1000.00" in first.stderr
    out = cli.json("wallet", "withdraw", "--user", investor, "--amount", "250.50", "--currency",
                   "usdc", "--yes")
    assert (out["currency"], out["amount"], out["balance_after"]) == ("USDC", "250.50", "749.50")
    assert _balances(engine) == (Decimal("40.00"), Decimal("749.50"))
    view = cli.json("wallet", "show", "--user", investor)
    assert view["fiat_balance"] == "40.00"
    assert view["stablecoins"] == [{"currency": "USDC", "balance": "749.50", "locked": "0.00"}]
    assert [(t["type"], t["currency"], t["amount"]) for t in view["recent_transactions"]] == [
        ("withdrawal", "USDC", "-250.50"), ("deposit", "USDC", "1000.00"), ("deposit", "USD", "40.00")]
    shown = cli("wallet", "show", "--user", investor)
    assert shown.exit_code == 0 and "USDC" in shown.stdout and "currency" in shown.stdout
    support = cli.json("user", "show", investor, "--balances")
    assert support["balances"]["stablecoins"][0]["balance"] == "749.50"
    with engine.connect() as conn:
        audits = conn.execute(text("SELECT after->>'currency' FROM audit_logs WHERE action"
                                   " LIKE 'wallet.%' ORDER BY seq")).scalars().all()
    assert audits == ["USD", "USDC", "USDC"]
    checked = cli("check")
    assert checked.exit_code == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("command", ["deposit", "withdraw"])
def test_an_unknown_currency_is_exit_2_and_nothing_moves(cli, investor, engine, command) -> None:  # noqa: ANN001
    extra = ("--yes",) if command == "withdraw" else ()
    result = cli("wallet", command, "--user", investor, "--amount", "5", "--currency", "EUR", *extra)
    assert result.exit_code == 2
    assert "currency must be one of USD, USDC" in result.stderr
    assert _balances(engine) == (Decimal("0.00"), Decimal("0"))


def test_a_withdrawal_never_goes_beyond_the_free_balance_of_its_currency(cli, investor, engine) -> None:  # noqa: ANN001
    cli.json("wallet", "deposit", "--user", investor, "--amount", "500")  # USD does not count
    cli.json("wallet", "deposit", "--user", investor, "--amount", "100", "--currency", "USDC")
    over = cli("wallet", "withdraw", "--user", investor, "--amount", "100.01", "--currency", "USDC",
               "--yes")
    assert over.exit_code == 5
    assert over.stderr.strip() == (
        "error: w@x.io has 100.00 USDC available to withdraw; cannot withdraw 100.01")
    with engine.begin() as conn:  # USDC locked (as an order would lock it) is not free
        conn.execute(text("UPDATE user_balances SET locked = 30.00"))
    locked = cli("wallet", "withdraw", "--user", investor, "--amount", "70.01", "--currency", "USDC",
                 "--yes")
    assert locked.exit_code == 5 and "has 70.00 USDC available" in locked.stderr
    assert _balances(engine) == (Decimal("500.00"), Decimal("100.00"))
    assert cli.json("wallet", "withdraw", "--user", investor, "--amount", "70", "--currency", "USDC",
                    "--yes")["balance_after"] == "30.00"
    with engine.begin() as conn:
        conn.execute(text("UPDATE user_balances SET locked = 0.00"))


def test_four_eyes_counts_usdc_one_to_one_and_moves_usdc_when_approved(cli, investor, engine) -> None:  # noqa: ANN001
    cli.json("user", "create", "--email", "ben@x.io", "--name", "Ben", "--role", "admin")
    ben = cli.as_user("ben@x.io")
    pending = cli.json("wallet", "deposit", "--user", investor, "--amount", "10000",
                       "--currency", "USDC")
    assert pending["status"] == "pending" and pending["params"]["currency"] == "USDC"
    assert _balances(engine) == (Decimal("0.00"), Decimal("0"))
    [listed] = cli.json("approvals", "list", "--status", "pending")
    assert listed["summary"] == "deposit 10000.00 USDC to w@x.io"
    done = ben.json("approvals", "approve", pending["id"])
    assert done["status"] == "executed" and done["result"]["currency"] == "USDC"
    assert _balances(engine) == (Decimal("0.00"), Decimal("10000.00"))
    below = cli.json("wallet", "deposit", "--user", investor, "--amount", "9999.99", "--currency",
                     "USDC")
    assert below["balance_after"] == "19999.99"  # below the threshold: at once
    too_much = cli("wallet", "withdraw", "--user", investor, "--amount", "20000", "--currency",
                   "USDC", "--yes")
    assert too_much.exit_code == 5 and "19,999.99 USDC available" in too_much.stderr
    out = cli.json("wallet", "withdraw", "--user", investor, "--amount", "15000", "--currency",
                   "USDC", "--yes")
    assert out["status"] == "pending" and out["params"]["currency"] == "USDC"
    ben.json("approvals", "approve", out["id"])
    assert _balances(engine) == (Decimal("0.00"), Decimal("4999.99"))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT currency, amount FROM wallet_transactions WHERE reference_type ="
            " 'approval_request' ORDER BY created_at")).all()
    assert rows == [("USDC", Decimal("10000.00")), ("USDC", Decimal("-15000.00"))]
    checked = cli.json("check")
    assert all(c["ok"] for c in checked["checks"]), checked


def _ask(market, amount: str, currency: str | None = "USDC", who: str = "carol@x.io"):  # noqa: ANN001, ANN202
    body = {"amount": amount, "reference": "0xC0FFEE"} | ({"currency": currency} if currency else {})
    return market.call("POST", "/api/v1/me/withdrawals", who, json=body)


def _me(market, path: str, who: str = "carol@x.io"):  # noqa: ANN001, ANN202
    answer = market.call("GET", f"/api/v1/me/{path}", who)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_investor_withdraws_usdc_end_to_end(market, cli, chain_client) -> None:  # noqa: ANN001
    from alefctl.workflows.reconcile import reconcile

    start = datetime.now(UTC) - timedelta(minutes=1)
    cli.json("wallet", "deposit", "--user", "carol@x.io", "--amount", "20000", "--currency", "USDC",
             ALEF_APPROVALS_MONEY_THRESHOLD_USD="50000")
    assert _ask(market, "20000.01").json()["code"] == "insufficient_funds"
    unknown = _ask(market, "5", "EUR")
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_input", unknown.text
    assert "currency must be one of USD, USDC" in unknown.json()["detail"]
    asked = _ask(market, "300.00")
    assert asked.status_code == 201, asked.text
    assert (asked.json()["currency"], asked.json()["status"]) == ("USDC", "pending")
    balances = _me(market, "balances")
    assert balances["stablecoins"] == [{"currency": "USDC", "balance": "19700.00", "locked": "0.00"}]
    assert balances["fiat"]["available"] == "50000.00"
    assert balances["fiat"]["in_pending_withdrawals"] == "0.00"  # USDC is not fiat
    [queued] = cli.json("withdrawal", "list")
    assert (queued["id"], queued["currency"]) == (asked.json()["id"], "USDC")
    confirmed = market.call("POST", f"/api/v1/admin/withdrawals/{asked.json()['id']}/confirm",
                            "admin@x.io")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "completed"

    rejected = _ask(market, "100.00").json()
    cli.json("withdrawal", "reject", rejected["id"], "--reason", "unknown address")
    large = _ask(market, "12000.00").json()
    done = cli("withdrawal", "confirm", large["id"])
    assert done.exit_code == 0 and "needs a second admin" in done.stderr
    request_id = cli.json("withdrawal", "list", "--status", "awaiting_approval")[0]["approval_request_id"]
    [summary] = [r["summary"] for r in cli.json("approvals", "list", "--status", "pending")]
    assert summary.startswith("pay out a withdrawal of 12000.00 USDC to carol@x.io")
    assert cli.as_user("admin@x.io").json("approvals", "approve", request_id)["status"] == "executed"
    assert _me(market, "balances")["stablecoins"][0]["balance"] == "7700.00"
    assert _me(market, "balances")["fiat"]["available"] == "50000.00"

    mine = _me(market, "withdrawals")["items"]
    assert {(w["currency"], w["amount"], w["status"]) for w in mine} == {
        ("USDC", "300.00", "completed"), ("USDC", "100.00", "rejected"),
        ("USDC", "12000.00", "completed")}
    moves = [(t["type"], t["currency"], t["amount"], t["status"])
             for t in _me(market, "transactions")["items"] if t["currency"] == "USDC"]
    assert ("withdrawal", "USDC", "-300.00", "completed") in moves
    assert ("withdrawal", "USDC", "-100.00", "cancelled") in moves
    until = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    statement = market.call("GET", "/api/v1/me/statement", "carol@x.io",
                            params={"from": start.isoformat(), "to": until}).json()
    assert statement["totals"]["USDC"]["deposits"] == "20000.00"
    assert statement["totals"]["USDC"]["withdrawals"] == "12300.00"
    assert statement["closing"]["cash"]["USDC"] == "7700.00"
    texts = [n["subject"] for n in
             _me(market, "notifications")["items"]]
    assert any("12000.00 USDC was approved" in t for t in texts), texts

    checked = cli.json("check")
    assert all(c["ok"] for c in checked["checks"]), [c for c in checked["checks"] if not c["ok"]]
    [report] = reconcile(market.engine, market.admin, chain_client, "DATE")
    assert report.ok, report.breaks


def test_usd_sale_proceeds_held_do_not_hold_usdc(market, cli) -> None:  # noqa: ANN001
    from server_client import place

    assert place(market, "alice", "sell", 10, "10.00").status_code == 201
    assert place(market, "carol", "buy", 10, "10.00").json()["status"] == "filled"
    fiat = _me(market, "balances", "alice@x.io")["fiat"]
    assert fiat["held_until_settlement"] == "99.50"
    assert _ask(market, fiat["available"], None, "alice@x.io").status_code == 409  # USD: held
    cli.json("wallet", "deposit", "--user", "alice@x.io", "--amount", "80", "--currency", "USDC")
    asked = _ask(market, "80.00", "USDC", "alice@x.io")
    assert asked.status_code == 201 and asked.json()["currency"] == "USDC"
    usd = _ask(market, "1.00", None, "alice@x.io").json()
    assert usd["currency"] == "USD"  # no currency: fiat, as before


def test_a_pending_usdc_subscription_is_not_fiat(platform, chain_client) -> None:  # noqa: ANN001
    """USD's `in_pending_subscriptions` and `in_pending_withdrawals` count USD rows only."""
    from platform_builders import wallet_for
    from test_offering_admin import _offering

    from alefctl.workflows.account.overview import user_balances
    from alefctl.workflows.offering import subscribe
    from alefctl.workflows.wallet import deposit

    _offering(platform, chain_client, raise_currency="USDC")
    alice = platform.approved("alice", wallet=wallet_for("alice"), fiat="1000")
    with platform.engine.begin() as conn:
        deposit(conn, platform.admin, alice.email, "300", currency="USDC")
        subscribe(conn, alice, "DATE", 20)
        seen = user_balances(conn, alice.user_id)
    assert seen["fiat"]["available"] == Decimal("1000.00")
    assert seen["fiat"]["in_pending_subscriptions"] == Decimal("0.00")
    assert seen["stablecoins"] == [{"currency": "USDC", "balance": Decimal("100.00"),
                                    "locked": Decimal("0.00")}]
