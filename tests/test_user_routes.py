"""Admin HTTP routes on a user's standing (server/routes/users.py): deactivate, activate, KYC
revoke, FATCA status and rate limits, with the workflows' rules and problem+json refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from server_client import place

PROBLEM = "application/problem+json"
USERS = "/api/v1/admin/users"
REVOKE = "/api/v1/admin/kyc/users"  # KYC revocation: with the KYC routes, reviewers too


def _problem(response, status: int, code: str) -> None:  # noqa: ANN001
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == code


def test_deactivating_cancels_open_orders_and_the_key_stops(market) -> None:  # noqa: ANN001
    resting = place(market, "carol", "buy", 2, "9.00").json()
    answer = market.call("POST", f"{USERS}/carol@x.io/deactivate", "admin@x.io")
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["changed"] and not done["is_activated"]
    assert [o["id"] for o in done["cancelled_orders"]] == [resting["id"]]
    again = market.call("POST", f"{USERS}/{done['id']}/deactivate", "admin@x.io").json()
    assert not again["changed"] and again["cancelled_orders"] == []
    back = market.call("POST", f"{USERS}/carol@x.io/activate", "admin@x.io").json()
    assert back["changed"] and back["is_activated"]


def test_fatca_block_and_kyc_revoke_cancel_orders(market) -> None:  # noqa: ANN001
    first = place(market, "carol", "buy", 1, "9.00").json()
    blocked = market.call("POST", f"{USERS}/carol@x.io/fatca", "admin@x.io",
                          json={"status": "blocked", "reason": "US person"}).json()
    assert blocked["fatca_status"] == "blocked"
    assert [o["id"] for o in blocked["cancelled_orders"]] == [first["id"]]
    _problem(place(market, "carol", "buy", 1, "9.00"), 403, "permission_denied")
    market.call("POST", f"{USERS}/carol@x.io/fatca", "admin@x.io",
                json={"status": "clear", "reason": "documents checked"})
    second = place(market, "carol", "buy", 1, "9.00").json()
    revoked = market.call("POST", f"{REVOKE}/carol@x.io/revoke", "reviewer@x.io",
                          json={"reason": "expired passport"}).json()
    assert revoked["kyc_status"] == "rejected"
    assert [o["id"] for o in revoked["cancelled_orders"]] == [second["id"]]


@pytest.mark.parametrize(("who", "path", "body", "status", "code"), [
    ("carol", "/users/carol@x.io/deactivate", None, 403, "permission_denied"),
    ("reviewer", "/users/carol@x.io/fatca", {"status": "blocked", "reason": "x"}, 403, "permission_denied"),
    ("carol", "/kyc/users/carol@x.io/revoke", {"reason": "x"}, 403, "permission_denied"),
    ("admin", "/users/nobody@x.io/deactivate", None, 404, "not_found"),
    ("admin", "/users/carol@x.io/fatca", {"status": "maybe", "reason": "x"}, 422, "invalid_input"),
    ("admin", "/users/carol@x.io/fatca", {"status": "blocked", "reason": "  "}, 422, "invalid_input"),
    ("admin", "/kyc/users/carol@x.io/revoke", {}, 422, "invalid_input"),
    ("admin", "/kyc/users/admin@x.io/revoke", {"reason": "x"}, 409, "conflict"),
])
def test_refusals(market, who: str, path: str, body: dict | None,  # noqa: ANN001
                  status: int, code: str) -> None:
    _problem(market.call("POST", "/api/v1/admin" + path, f"{who}@x.io", json=body), status, code)


def test_rate_limits_over_http(market) -> None:  # noqa: ANN001
    shown = market.call("GET", f"{USERS}/carol@x.io/rate-limit", "admin@x.io").json()
    assert (shown["orders_per_s"], shown["orders_source"]) == (50, "default")
    changed = market.call("PUT", f"{USERS}/carol@x.io/rate-limit", "admin@x.io",
                          json={"reads_per_s": 500}).json()
    assert changed["changed"] and (changed["reads_per_s"], changed["reads_source"]) == (500, "user")
    _problem(market.call("PUT", f"{USERS}/carol@x.io/rate-limit", "admin@x.io",
                         json={"orders_per_s": 0}), 422, "invalid_input")
    _problem(market.call("PUT", f"{USERS}/carol@x.io/rate-limit", "carol@x.io",
                         json={"orders_per_s": 500}), 403, "permission_denied")
    reset = market.call("PUT", f"{USERS}/carol@x.io/rate-limit", "admin@x.io",
                        json={"reset": True}).json()
    assert reset["reads_source"] == "default"


def test_money_in_and_out_over_http_with_four_eyes_at_the_threshold(market, cli) -> None:  # noqa: ANN001
    def wallet() -> dict:  # noqa: ANN202
        shown = market.call("GET", f"{USERS}/carol@x.io/wallet", "admin@x.io")
        assert shown.status_code == 200, shown.text
        return shown.json()

    start = wallet()
    made = market.call("POST", f"{USERS}/carol@x.io/deposits", "admin@x.io",
                       json={"amount": "250.00", "currency": "USDC", "reference": "tx 0xabc"})
    assert made.status_code == 201, made.text
    assert (made.json()["currency"], made.json()["amount"]) == ("USDC", "250.00")
    paid = market.call("POST", f"{USERS}/carol@x.io/withdrawals", "admin@x.io",
                       json={"amount": "100.00", "reference": "IBAN AE07"})
    assert paid.status_code == 201 and paid.json()["currency"] == "USD"
    big = market.call("POST", f"{USERS}/carol@x.io/deposits", "admin@x.io",
                      json={"amount": "10000.00"})
    assert big.status_code == 202, big.text  # nothing moved: a second admin must approve
    assert wallet()["fiat_balance"] == str(Decimal(start["fiat_balance"]) - 100)
    assert cli.json("approvals", "approve", big.json()["id"])["status"] == "executed"
    after = wallet()
    assert after["fiat_balance"] == str(Decimal(start["fiat_balance"]) + 9900)
    assert {s["currency"]: s["balance"] for s in after["stablecoins"]}["USDC"] == "250.00"
    _problem(market.call("POST", f"{USERS}/carol@x.io/withdrawals", "admin@x.io",
                         json={"amount": "1000.00", "currency": "USDC"}), 409, "insufficient_funds")
    _problem(market.call("POST", f"{USERS}/carol@x.io/deposits", "admin@x.io",
                         json={"amount": "1.00", "currency": "EUR"}), 422, "invalid_input")
    for path in ("deposits", "withdrawals"):
        _problem(market.call("POST", f"{USERS}/carol@x.io/{path}", "carol@x.io",
                             json={"amount": "1.00"}), 403, "permission_denied")
    _problem(market.call("GET", f"{USERS}/carol@x.io/wallet", "carol@x.io"), 403,
             "permission_denied")
