"""Withdrawal requests: the money is held at once, leaves only when an admin confirms (a second
admin at or above the four-eyes threshold), comes back on a rejection or a cancel, and never
takes a balance below zero nor unsettled sale proceeds."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from sqlalchemy import text

CAROL = "(SELECT id FROM users WHERE email = 'carol@x.io')"


def _fiat(market, who: str = "carol@x.io") -> dict:  # noqa: ANN001
    return market.call("GET", "/api/v1/me/balances", who).json()["fiat"]


def _ledger_holds(market) -> None:  # noqa: ANN001
    """money.py's rule: free plus locked fiat is the sum of the ledger rows not cancelled."""
    with market.engine.begin() as conn:
        balance, ledger = conn.execute(text(
            f"SELECT fiat_balance, (SELECT sum(amount) FROM wallet_transactions WHERE user_id ="
            f" {CAROL} AND currency = 'USD' AND status <> 'cancelled') FROM users"
            f" WHERE id = {CAROL}")).one()
    assert balance == ledger


def _ask(market, amount: str, who: str = "carol@x.io"):  # noqa: ANN001, ANN202
    return market.call("POST", "/api/v1/me/withdrawals", who,
                       json={"amount": amount, "reference": "IBAN AE07 0331"})


def test_a_withdrawal_is_held_then_paid_when_an_admin_confirms(market, cli) -> None:  # noqa: ANN001
    asked = _ask(market, "300.00")
    assert asked.status_code == 201 and asked.json()["status"] == "pending", asked.text
    fiat = _fiat(market)
    assert (fiat["available"], fiat["in_pending_withdrawals"]) == ("49700.00", "300.00")
    _ledger_holds(market)
    listed = cli.json("withdrawal", "list")
    assert [w["id"] for w in listed] == [asked.json()["id"]]
    done = cli.json("withdrawal", "confirm", asked.json()["id"])
    assert done["status"] == "completed"
    fiat = _fiat(market)
    assert (fiat["available"], fiat["in_pending_withdrawals"]) == ("49700.00", "0.00")
    _ledger_holds(market)
    with market.engine.begin() as conn:
        assert conn.execute(text(
            "SELECT status FROM wallet_transactions WHERE reference_type = 'withdrawal_request'"
        )).scalar_one() == "completed"
    again = cli("withdrawal", "confirm", asked.json()["id"])
    assert again.exit_code == 5
    [mine] = market.call("GET", "/api/v1/me/withdrawals", "carol@x.io").json()["items"]
    assert mine["status"] == "completed"
    from alefctl.server.routes.me_examples import ANSWERS  # the documented answers' fields

    assert set(asked.json()) == set(ANSWERS["withdrawal"]) == set(done)
    assert set(mine) == set(ANSWERS["withdrawals"]["items"][0])


def test_more_than_the_balance_is_refused_and_nothing_moves(market) -> None:  # noqa: ANN001
    refused = _ask(market, "50000.01")
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_funds"
    assert _fiat(market)["available"] == "50000.00"
    assert _ask(market, "0").status_code == 422
    assert _ask(market, "1.001").status_code == 422
    assert _ask(market, "40000.00").status_code == 201
    assert _ask(market, "10000.01").status_code == 409  # the first one is held


def test_unsettled_sale_proceeds_cannot_be_withdrawn_yet(market) -> None:  # noqa: ANN001
    from server_client import place

    assert place(market, "alice", "sell", 10, "10.00").status_code == 201
    assert place(market, "carol", "buy", 10, "10.00").json()["status"] == "filled"
    fiat = _fiat(market, "alice@x.io")
    assert fiat["held_until_settlement"] == "99.50"
    refused = _ask(market, fiat["available"], "alice@x.io")
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_funds"
    withdrawable = Decimal(fiat["available"]) - Decimal("99.50")
    assert _ask(market, str(withdrawable), "alice@x.io").status_code == 201


def test_a_large_withdrawal_waits_for_a_second_admin(market, cli) -> None:  # noqa: ANN001
    asked = _ask(market, "10000.00").json()
    waiting = cli.json("withdrawal", "confirm", asked["id"])
    assert waiting["status"] == "awaiting_approval" and waiting["approval_request_id"]
    assert _fiat(market)["in_pending_withdrawals"] == "10000.00"  # held, not yet paid
    request_id = waiting["approval_request_id"]
    assert cli("approvals", "approve", request_id).exit_code == 4  # the requester
    approved = cli.as_user("admin@x.io").json("approvals", "approve", request_id)
    assert approved["status"] == "executed"
    assert market.call("GET", "/api/v1/me/withdrawals", "carol@x.io").json()[
        "items"][0]["status"] == "completed"
    fiat = _fiat(market)
    assert (fiat["available"], fiat["in_pending_withdrawals"]) == ("40000.00", "0.00")
    _ledger_holds(market)


def test_a_rejected_approval_gives_the_money_back(market, cli) -> None:  # noqa: ANN001
    asked = _ask(market, "12000.00").json()
    request_id = cli.json("withdrawal", "confirm", asked["id"])["approval_request_id"]
    cli.as_user("admin@x.io").json("approvals", "reject", request_id, "--reason", "name mismatch")
    [mine] = market.call("GET", "/api/v1/me/withdrawals", "carol@x.io").json()["items"]
    assert (mine["status"], mine["reason"]) == ("rejected", "name mismatch")
    assert _fiat(market)["available"] == "50000.00"
    _ledger_holds(market)


def test_reject_and_cancel_give_the_money_back(market, cli) -> None:  # noqa: ANN001
    first = _ask(market, "100.00").json()
    rejected = cli.json("withdrawal", "reject", first["id"], "--reason", "unknown bank")
    assert rejected["status"] == "rejected"
    second = _ask(market, "200.00").json()
    path = f"/api/v1/me/withdrawals/{second['id']}"
    assert market.call("DELETE", path, "alice@x.io").status_code == 404
    cancelled = market.call("DELETE", path, "carol@x.io")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert market.call("DELETE", path, "carol@x.io").status_code == 409
    assert market.call("DELETE", f"/api/v1/me/withdrawals/{uuid.uuid4()}",
                       "carol@x.io").status_code == 404
    assert _fiat(market)["available"] == "50000.00"
    _ledger_holds(market)
    statuses = [w["status"] for w in market.call(
        "GET", "/api/v1/me/withdrawals", "carol@x.io").json()["items"]]
    assert statuses == ["cancelled", "rejected"]
    checked = {c["name"]: c["ok"] for c in json.loads(cli("check", "--json").stdout)["checks"]}
    assert checked["withdrawals_match_ledger"] and checked["user_fiat_ledger"]


def test_only_admins_decide_withdrawals(market) -> None:  # noqa: ANN001
    asked = _ask(market, "10.00").json()
    for path in (f"/api/v1/admin/withdrawals/{asked['id']}/confirm",):
        assert market.call("POST", path, "carol@x.io").status_code == 403
    assert market.call("GET", "/api/v1/admin/withdrawals", "carol@x.io").status_code == 403
    [queued] = market.call("GET", "/api/v1/admin/withdrawals", "admin@x.io").json()
    assert queued["id"] == asked["id"]
    paid = market.call("POST", f"/api/v1/admin/withdrawals/{asked['id']}/confirm", "admin@x.io")
    assert paid.status_code == 200 and paid.json()["status"] == "completed"
