"""The account API's rules: wallet proofs (signature, replay, age, a wallet holding tokens),
paging (cursor, filters, bad input), an investor's own OTC orders, and who may see what."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from account_helpers import all_pages, wallet_body
from sqlalchemy import text

PROBLEM = "application/problem+json"


@pytest.fixture
def key_pair():  # noqa: ANN201
    from eth_account import Account

    return Account.create()


def _user_id(api, email: str) -> str:  # noqa: ANN001
    return api.call("GET", "/api/v1/me", email).json()["id"]


def test_a_wallet_is_registered_once_per_signed_message(api, platform, key_pair) -> None:  # noqa: ANN001
    platform.approved("ivy")
    body = wallet_body(_user_id(api, "ivy@x.io"), key_pair)
    first = api.call("PUT", "/api/v1/me/wallet", "ivy@x.io", json=body)
    assert first.status_code == 200 and first.json()["wallet_address"] == key_pair.address
    replayed = api.call("PUT", "/api/v1/me/wallet", "ivy@x.io", json=body)
    assert replayed.status_code == 200 and replayed.json()["changed"] is False  # same address
    with api.engine.begin() as conn:
        proofs = conn.execute(text("SELECT count(*) FROM wallet_proofs")).scalar_one()
        audited = conn.execute(text("SELECT count(*) FROM audit_logs WHERE action ="
                                    " 'account.wallet'")).scalar_one()
    assert (proofs, audited) == (1, 1)


def test_a_replayed_nonce_is_refused(api, platform, key_pair) -> None:  # noqa: ANN001
    from eth_account import Account

    platform.approved("ivy")
    user_id = _user_id(api, "ivy@x.io")
    api.call("PUT", "/api/v1/me/wallet", "ivy@x.io", json=wallet_body(user_id, key_pair,
                                                                       nonce="nonce-0001"))
    other = Account.create()
    again = api.call("PUT", "/api/v1/me/wallet", "ivy@x.io",
                     json=wallet_body(user_id, other, nonce="nonce-0001"))
    assert again.status_code == 409 and again.json()["code"] == "nonce_used"


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"age_s": 3600}, 422, "invalid_input"),                    # too old
    ({"age_s": -600}, 422, "invalid_input"),                    # from the future
    ({"nonce": "short"}, 422, "invalid_input"),
    ({"address": "0x52908400098527886E0F7030069857D2E4169EE7"}, 403, "invalid_signature"),
])
def test_a_bad_proof_is_refused(api, platform, key_pair, change, status, code) -> None:  # noqa: ANN001
    platform.approved("ivy")
    body = wallet_body(_user_id(api, "ivy@x.io"), key_pair, **change)
    refused = api.call("PUT", "/api/v1/me/wallet", "ivy@x.io", json=body)
    assert refused.status_code == status and refused.json()["code"] == code, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert api.call("GET", "/api/v1/me", "ivy@x.io").json()["wallet_address"] is None


def test_a_message_signed_for_another_user_is_refused(api, platform, key_pair) -> None:  # noqa: ANN001
    platform.approved("ivy")
    platform.approved("eve")
    body = wallet_body(_user_id(api, "ivy@x.io"), key_pair)  # ivy's signed message, sent by eve
    refused = api.call("PUT", "/api/v1/me/wallet", "eve@x.io", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "invalid_signature"


def test_an_address_of_another_user_is_refused(api, platform, key_pair) -> None:  # noqa: ANN001
    platform.approved("ivy")
    platform.approved("eve")
    assert api.call("PUT", "/api/v1/me/wallet", "ivy@x.io",
                    json=wallet_body(_user_id(api, "ivy@x.io"), key_pair)).status_code == 200
    taken = api.call("PUT", "/api/v1/me/wallet", "eve@x.io",
                     json=wallet_body(_user_id(api, "eve@x.io"), key_pair))
    assert taken.status_code == 409 and taken.json()["field"] == "address"
    assert api.call("GET", "/api/v1/me", "eve@x.io").json()["wallet_address"] is None


def test_a_signature_that_is_not_one_is_422(api, platform, key_pair) -> None:  # noqa: ANN001
    platform.approved("ivy")
    body = wallet_body(_user_id(api, "ivy@x.io"), key_pair) | {"signature": "0x1234"}
    refused = api.call("PUT", "/api/v1/me/wallet", "ivy@x.io", json=body)
    assert refused.status_code == 422 and refused.json()["field"] == "signature"


def test_a_wallet_holding_tokens_goes_through_recovery(market, key_pair) -> None:  # noqa: ANN001
    body = wallet_body(_user_id(market, "alice@x.io"), key_pair)
    refused = market.call("PUT", "/api/v1/me/wallet", "alice@x.io", json=body)
    assert refused.status_code == 409 and refused.json()["code"] == "wallet_holds_tokens"
    # carol holds nothing: she may move to a new wallet
    moved = market.call("PUT", "/api/v1/me/wallet", "carol@x.io",
                        json=wallet_body(_user_id(market, "carol@x.io"), key_pair))
    assert moved.status_code == 200 and moved.json()["wallet_address"] == key_pair.address
    taken = market.call("PUT", "/api/v1/me/wallet", "bob@x.io",
                        json=wallet_body(_user_id(market, "bob@x.io"), key_pair))
    assert taken.status_code == 409  # bob holds tokens; and the address is carol's anyway


def test_lists_page_stably_and_filter(market, platform) -> None:  # noqa: ANN001
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00"):
        with platform.engine.begin() as conn:
            from alefctl.workflows.wallet import deposit

            deposit(conn, platform.admin, "carol@x.io", amount)
    def carol(method: str, url: str):  # noqa: ANN202
        return market.call(method, url, "carol@x.io")

    every = all_pages(carol, "/api/v1/me/transactions", limit=2)
    assert len(every) == 6 and len({t["id"] for t in every}) == 6
    assert [t["created_at"] for t in every] == sorted((t["created_at"] for t in every),
                                                      reverse=True)
    assert all_pages(carol, "/api/v1/me/transactions", limit=500) == every
    cut = every[2]["created_at"]
    newer = all_pages(carol, f"/api/v1/me/transactions?from={cut.replace('+', '%2B')}")
    assert [t["id"] for t in newer] == [t["id"] for t in every[:3]]
    older = all_pages(carol, f"/api/v1/me/transactions?to={cut.replace('+', '%2B')}")
    assert [t["id"] for t in older] == [t["id"] for t in every[3:]]
    alice = all_pages(lambda m, u: market.call(m, u, "alice@x.io"), "/api/v1/me/allocations")
    assert [a["symbol"] for a in alice] == ["DATE"]
    assert all_pages(lambda m, u: market.call(m, u, "alice@x.io"),
                     "/api/v1/me/allocations?token=NOPE") == []


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "cursor=bm9wZQ", "cursor=%00",
                                   "from=2026-01-01T00:00:00", "token=%00",
                                   "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z"])
def test_bad_paging_input_is_422(api, platform, query: str) -> None:  # noqa: ANN001
    platform.approved("ivy")
    refused = api.call("GET", f"/api/v1/me/transactions?{query}", "ivy@x.io")
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM


def test_an_investor_lists_and_cancels_own_otc_orders(market, platform) -> None:  # noqa: ANN001
    from alefctl.workflows.otc import set_trading_mode

    with platform.engine.begin() as conn:
        set_trading_mode(conn, platform.admin, "DATE", "fixed_price_otc", "10.00")
    before = market.call("GET", "/api/v1/me/balances", "carol@x.io").json()["fiat"]
    placed = market.call("POST", "/api/v1/orders", "carol@x.io", json={
        "token_id": "DATE", "side": "buy", "order_type": "limit", "quantity": 5,
        "price": "10.00"})
    assert placed.status_code == 201, placed.text
    locked = market.call("GET", "/api/v1/me/balances", "carol@x.io").json()["fiat"]
    assert locked["locked_in_otc_orders"] == "50.00"
    assert Decimal(locked["available"]) == Decimal(before["available"]) - 50
    [order] = market.call("GET", "/api/v1/me/otc-orders", "carol@x.io").json()["items"]
    assert order["status"] == "pending" and order["id"] == placed.json()["id"]
    assert market.call("GET", "/api/v1/me/otc-orders", "alice@x.io").json()["items"] == []
    path = f"/api/v1/me/otc-orders/{order['id']}"
    assert market.call("DELETE", path, "alice@x.io").status_code == 404
    cancelled = market.call("DELETE", path, "carol@x.io")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    after = market.call("GET", "/api/v1/me/balances", "carol@x.io").json()["fiat"]
    assert after == before
    assert market.call("DELETE", path, "carol@x.io").status_code == 409
    assert market.call("DELETE", f"/api/v1/me/otc-orders/{uuid.uuid4()}",
                       "carol@x.io").status_code == 404


def test_only_investors_cancel_otc_orders_and_staff_read_their_own(api, platform) -> None:  # noqa: ANN001
    assert api.call("DELETE", f"/api/v1/me/otc-orders/{uuid.uuid4()}",
                    "admin@x.io").status_code == 403
    assert api.call("GET", "/api/v1/me", "admin@x.io").json()["role"] == "admin"
    assert api.call("GET", "/api/v1/me").status_code == 401


def test_support_sees_a_users_balances_and_holdings_on_the_cli(market, cli) -> None:  # noqa: ANN001
    shown = cli.json("user", "show", "alice@x.io", "--balances", "--holdings")
    [holding] = shown["holdings"]
    assert (holding["symbol"], holding["quantity"]) == ("DATE", 100)
    assert shown["balances"]["fiat"]["available"] == shown["fiat_balance"]
    plain = cli.json("user", "show", "alice@x.io")
    assert "holdings" not in plain and "balances" not in plain
    table = cli("user", "show", "alice@x.io", "--holdings", "--balances")
    assert table.exit_code == 0 and "DATE" in table.stdout and "locked_in_orders" in table.stdout
    refused = cli.as_user("alice@x.io")("user", "show", "alice@x.io", "--holdings")
    assert refused.exit_code == 4


def test_holdings_show_what_an_admin_froze(market, cli) -> None:  # noqa: ANN001
    def holding() -> dict:
        [only] = market.call("GET", "/api/v1/me/holdings", "alice@x.io").json()
        return only

    cli.json("holder", "freeze", "DATE", "alice@x.io", "--quantity", "30", "--reason", "court")
    partly = holding()
    assert (partly["frozen"], partly["wallet_frozen"], partly["available"]) == (30, False, 70)
    cli.json("holder", "freeze", "DATE", "alice@x.io", "--reason", "court order")
    whole = holding()
    assert (whole["wallet_frozen"], whole["available"], whole["quantity"]) == (True, 0, 100)


def test_every_account_route_has_an_example_answer() -> None:
    from pathlib import Path

    from alefctl.server import create_app
    from alefctl.settings import load_settings

    paths = create_app(load_settings(home=Path("/nonexistent"))).openapi()["paths"]
    routes = [(path, method, operation) for path, methods in paths.items()
              if path.startswith(("/api/v1/me", "/api/v1/admin/withdrawals", "/api/v1/webhooks"))
              for method, operation in methods.items()]
    assert len(routes) == 27  # 2 of notifications and 7 of webhooks among them
    for path, method, operation in routes:
        [answer] = [body for status, body in operation["responses"].items()
                    if status.startswith("2")]
        assert all("example" in body for body in answer["content"].values()), (method, path)


def test_statement_token_positions_follow_every_wallet_change(market, platform) -> None:  # noqa: ANN001
    """Positions come from the position history, so a change with no ledger row of its own (an
    agent's burn or forced transfer, a redemption) shows in the closing position too."""
    before = market.call("GET", "/api/v1/me/holdings", "alice@x.io").json()
    held = {h["symbol"]: h["quantity"] for h in before}["DATE"]
    start = datetime.now(UTC)
    time.sleep(0.01)
    with platform.engine.begin() as conn:  # the agent burns 7 of alice's tokens
        conn.execute(text("UPDATE wallets SET balance = balance - 7 WHERE user_id = (SELECT id"
                          " FROM users WHERE email = 'alice@x.io')"))
    time.sleep(0.01)
    window = {"from": start.isoformat(), "to": datetime.now(UTC).isoformat()}
    data = market.call("GET", "/api/v1/me/statement", "alice@x.io", params=window).json()
    assert data["opening"]["tokens"] == {"DATE": held}
    assert data["closing"]["tokens"] == {"DATE": held - 7}


def test_a_statement_opens_with_what_came_before(market, platform) -> None:  # noqa: ANN001
    from alefctl.workflows.wallet import deposit, withdraw

    for move, amount in ((deposit, "10.00"), (withdraw, "4.00"), (deposit, "1.50")):
        with platform.engine.begin() as conn:
            move(conn, platform.admin, "carol@x.io", amount)
    ledger = market.call("GET", "/api/v1/me/transactions", "carol@x.io").json()["items"]
    start, end = ledger[1]["created_at"], ledger[0]["created_at"]  # the withdrawal, the last
    window = {"from": start, "to": end}
    data = market.call("GET", "/api/v1/me/statement", "carol@x.io", params=window).json()
    assert data["opening"]["cash"] == {"USD": "50010.00"}
    assert data["closing"]["cash"] == {"USD": "50006.00"}  # the last deposit is at `to`: after
    assert [m["type"] for m in data["movements"]] == ["withdrawal"]
    assert data["totals"]["USD"]["withdrawals"] == "4.00"
    assert data["totals"]["USD"]["deposits"] == "0.00"
    for bad in ({"from": end, "to": start}, {"from": "2026-01-01T00:00:00", "to": end},
                {**window, "format": "xml"}, {"to": end}):
        refused = market.call("GET", "/api/v1/me/statement", "carol@x.io", params=bad)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM, bad


def test_deposit_instructions_give_a_reference_that_names_the_investor(market, platform,  # noqa: ANN001
                                                                      cli) -> None:  # noqa: ANN001
    answer = market.call("GET", "/api/v1/me/deposit-instructions", "carol@x.io")
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    carol = market.call("GET", "/api/v1/me", "carol@x.io").json()["id"]
    assert shown["reference"] == "ALEF-" + carol.replace("-", "")[-12:].upper()
    assert "ask the platform" in shown["usd"]["bank_details"]  # none configured here
    before = Decimal(market.call("GET", "/api/v1/me/balances", "carol@x.io").json()["fiat"]["total"])
    paid = cli.json("wallet", "deposit", "--user", shown["reference"].lower(), "--amount", "12.34",
                    "--reference", f"wire {shown['reference']}")
    assert paid["email"] == "carol@x.io"
    after = market.call("GET", "/api/v1/me/balances", "carol@x.io").json()["fiat"]["total"]
    assert Decimal(after) == before + Decimal("12.34")
    told = market.call("GET", "/api/v1/me/notifications", "carol@x.io").json()["items"][0]
    assert (told["kind"], told["subject"]) == ("deposit.received", "12.34 USD arrived in your account")
    assert cli("wallet", "deposit", "--user", "ALEF-000000000000", "--amount", "1").exit_code == 3
    from alefctl.errors import NotFound
    from alefctl.workflows.refs import resolve_ref

    with market.engine.connect() as conn:  # a reference names others only for those who see them
        assert str(resolve_ref(conn, "user", shown["reference"], platform.actor("carol@x.io"))) == carol
        with pytest.raises(NotFound):
            resolve_ref(conn, "user", shown["reference"], platform.actor("alice@x.io"))
