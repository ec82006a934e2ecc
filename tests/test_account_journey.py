"""Done-when of the account API: one investor from sign-up to a dividend through HTTP only
(admins on the CLI), every figure read back from /api/v1/me and checked against the database
(and the chain where it holds the answer)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from account_helpers import all_pages, wallet_body
from platform_builders import wallet_for
from sqlalchemy import text

from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.onchain.minting import run_mint_jobs


def test_one_investor_from_sign_up_to_a_dividend(api, platform, cli, chain_client) -> None:  # noqa: ANN001
    from eth_account import Account

    engine = api.engine
    sql = _sql(engine)
    # sign-up: an admin creates the user and their API key on the CLI
    created = cli.json("user", "create", "--email", "ivy@x.io", "--name", "Ivy Ng",
                       "--country", "AE")
    key = cli.json("user", "api-key", "create", "ivy@x.io")["secret"]

    def ivy(method: str, path: str, **kwargs):  # noqa: ANN003, ANN202
        return api.client.request(method, path, headers={"Authorization": f"Bearer {key}"},
                                  **kwargs)

    me = ivy("GET", "/api/v1/me").json()
    assert me["id"] == created["id"] and me["kyc_status"] == "none"
    assert me["wallet_address"] is None
    # KYC over HTTP, approved by an admin on the CLI
    application = ivy("POST", "/api/v1/kyc", json={
        "full_name": "Ivy Ng", "nationality": "AE", "document_type": "passport",
        "document_number": "AE1234567"}).json()
    assert ivy("GET", "/api/v1/me").json()["kyc_status"] == "pending"
    cli.json("kyc", "approve", application["id"], "--level", "2")
    # the wallet, registered by the investor with a signed message
    key_pair = Account.create()
    registered = ivy("PUT", "/api/v1/me/wallet", json=wallet_body(me["id"], key_pair))
    assert registered.status_code == 200, registered.text
    assert registered.json()["changed"] is True
    me = ivy("GET", "/api/v1/me").json()
    assert me["wallet_address"] == key_pair.address and me["kyc_level"] == 2
    assert sql("SELECT wallet_address, kyc_status FROM users WHERE email = 'ivy@x.io'") == \
        (key_pair.address, "approved")
    cli.json("wallet", "deposit", "--user", "ivy@x.io", "--amount", "1000")

    # the primary offering: subscribe over HTTP, confirmed by an admin, minted by the worker
    platform.draft_token("DATE", price="10.00")
    deploy_token(engine, platform.admin, "DATE", chain_client)
    cli.json("token", "start-offering", "DATE")
    assert ivy("POST", "/api/v1/tokens/DATE/subscribe", json={"quantity": 40}).status_code == 201
    pending = ivy("GET", "/api/v1/me/balances").json()["fiat"]
    assert pending["in_pending_subscriptions"] == "400.00" and pending["available"] == "600.00"
    cli.json("token", "confirm-payment", "DATE")
    run_mint_jobs(engine, chain_client)
    cli.json("token", "enable-secondary", "DATE", "--yes")

    # trading: ivy sells 10 to carol, and leaves a buy order resting
    platform.approved("carol", wallet=wallet_for("carol"), fiat="5000")
    sold = ivy("POST", "/api/v1/orders", json={"token_id": "DATE", "side": "sell",
                                               "order_type": "limit", "quantity": 10,
                                               "price": "10.00"})
    assert sold.status_code == 201, sold.text
    bought = api.call("POST", "/api/v1/orders", "carol@x.io", json={
        "token_id": "DATE", "side": "buy", "order_type": "limit", "quantity": 10,
        "price": "10.00"})
    assert bought.json()["status"] == "filled", bought.text
    resting = ivy("POST", "/api/v1/orders", json={"token_id": "DATE", "side": "buy",
                                                  "order_type": "limit", "quantity": 5,
                                                  "price": "9.00"})
    assert resting.status_code == 201 and resting.json()["status"] == "open"

    # the dividend: the issuer declares over HTTP, admins approve and pay on the CLI
    cli.json("wallet", "deposit", "--user", "issuer@x.io", "--amount", "500")
    declared = api.call("POST", "/api/v1/dividends", "issuer@x.io", json={
        "token_id": "DATE", "dividend_type": "fiat", "per_token_usd": "0.50"})
    assert declared.status_code == 201, declared.text
    dividend_id = declared.json()["id"]
    assert api.call("POST", f"/api/v1/dividends/{dividend_id}/submit",
                    "issuer@x.io").status_code == 200
    cli.json("dividend", "approve", dividend_id)
    cli.json("dividend", "distribute", dividend_id, "--yes")

    _check_profile_and_balances(ivy, sql)
    _check_holdings(ivy, sql, chain_client, key_pair.address)
    _check_lists(ivy, engine, dividend_id)
    _check_statement(ivy, sql)
    _check_documented_examples(ivy)


def _sql(engine):  # noqa: ANN001, ANN202
    def one(query: str, **params: object):  # noqa: ANN202
        with engine.begin() as conn:
            row = conn.execute(text(query), params).one()
        return tuple(row) if len(row) > 1 else row[0]
    return one


IVY = "(SELECT id FROM users WHERE email = 'ivy@x.io')"


def _check_profile_and_balances(ivy, sql) -> None:  # noqa: ANN001
    fiat = ivy("GET", "/api/v1/me/balances").json()["fiat"]
    assert Decimal(fiat["available"]) == sql(f"SELECT fiat_balance FROM users WHERE id = {IVY}")
    assert fiat["locked_in_orders"] == "45.00" == str(sql(
        f"SELECT sum(locked_fiat) FROM orders WHERE user_id = {IVY} AND status = 'open'"))
    # the ledger's rule: free plus locked money is what the ledger rows add up to
    assert Decimal(fiat["total"]) == sql(
        "SELECT sum(amount) FROM wallet_transactions WHERE user_id = " + IVY +
        " AND currency = 'USD' AND status <> 'cancelled'")
    assert Decimal(fiat["held_until_settlement"]) == sql(
        f"SELECT total - platform_fee FROM trades WHERE seller_id = {IVY}") == Decimal("99.50")
    assert fiat["in_pending_subscriptions"] == "0.00"


def _check_holdings(ivy, sql, chain_client, wallet: str) -> None:  # noqa: ANN001
    [holding] = ivy("GET", "/api/v1/me/holdings").json()
    assert holding["symbol"] == "DATE"
    assert holding["quantity"] == sql(f"SELECT balance FROM wallets WHERE user_id = {IVY}") == 30
    assert holding["locked_in_orders"] == 0
    contract = sql("SELECT contract_address FROM tokens WHERE symbol = 'DATE'")
    # the sale is not settled on-chain yet: the chain still holds the 40 minted
    assert holding["on_chain_quantity"] == chain_client.balance_of(contract, wallet) // 10**18 == 40
    assert holding["average_cost"] == "10.0000" and holding["last_price"] == "10.00"
    assert holding["market_value"] == "300.00"


def _check_lists(ivy, engine, dividend_id: str) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        ledger = [str(r.id) for r in conn.execute(text(
            f"SELECT id FROM wallet_transactions WHERE user_id = {IVY}"
            " ORDER BY created_at DESC, id DESC"))]
        payment = conn.execute(text(
            f"SELECT net_amount FROM dividend_payments WHERE user_id = {IVY}")).scalar_one()
        allocation = conn.execute(text(
            f"SELECT id, quantity, amount FROM token_allocations WHERE user_id = {IVY}")).one()
        fee = conn.execute(text(f"SELECT platform_fee FROM trades WHERE seller_id = {IVY}")).scalar_one()
    assert [t["id"] for t in all_pages(ivy, "/api/v1/me/transactions")] == ledger
    assert len(ledger) >= 5  # deposit, subscription, sale, fee, dividend
    [paid] = all_pages(ivy, "/api/v1/me/dividends")
    assert paid["dividend_id"] == dividend_id and Decimal(paid["net_amount"]) == payment
    assert paid["token_balance"] == 30 and paid["gross_amount"] == "15.00"
    [allocated] = all_pages(ivy, "/api/v1/me/allocations")
    assert (allocated["id"], allocated["quantity"], Decimal(allocated["amount"])) == \
        (str(allocation.id), allocation.quantity, allocation.amount)
    assert allocated["on_chain_status"] == "minted"
    [fill] = all_pages(ivy, "/api/v1/me/fills")
    assert (fill["side"], fill["quantity"], Decimal(fill["fee"])) == ("sell", 10, fee)


def _check_statement(ivy, sql) -> None:  # noqa: ANN001
    window = {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    data = ivy("GET", "/api/v1/me/statement", params=window).json()
    assert data["opening"] == {"cash": {"USD": "0.00"}, "tokens": {}}
    total = sql("SELECT sum(amount) FROM wallet_transactions WHERE user_id = " + IVY +
                " AND currency = 'USD' AND status <> 'cancelled'")
    assert Decimal(data["closing"]["cash"]["USD"]) == total
    assert data["closing"]["tokens"] == {"DATE": 30}
    usd = data["totals"]["USD"]
    assert usd["deposits"] == "1000.00" and usd["subscriptions"] == "400.00"
    assert usd["fees"] == "0.50" and usd["trade_sales"] == "100.00"
    assert Decimal(usd["dividends"]) == sql(
        f"SELECT net_amount FROM dividend_payments WHERE user_id = {IVY}")
    csv_text = ivy("GET", "/api/v1/me/statement", params=window | {"format": "csv"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_text.text)))
    assert [r["id"] for r in rows if r["id"]] == [m["id"] for m in data["movements"]]
    closing = [r for r in rows if r["type"] == "closing_position"]
    assert [(r["symbol"], r["quantity"]) for r in closing] == [("DATE", "30")]


def _check_documented_examples(ivy) -> None:  # noqa: ANN001
    """The OpenAPI examples have the fields of the real answers."""
    from alefctl.server.routes.me_examples import ANSWERS

    assert set(ivy("GET", "/api/v1/me").json()) == set(ANSWERS["profile"])
    balances = ivy("GET", "/api/v1/me/balances").json()
    assert set(balances["fiat"]) == set(ANSWERS["balances"]["fiat"])
    assert set(ivy("GET", "/api/v1/me/holdings").json()[0]) == set(ANSWERS["holdings"][0])
    for kind, path in (("allocations", "allocations"), ("dividends", "dividends"),
                       ("fills", "fills"), ("transactions", "transactions")):
        page = ivy("GET", f"/api/v1/me/{path}?limit=1").json()
        assert set(page) == set(ANSWERS[kind]), kind
        assert set(page["items"][0]) == set(ANSWERS[kind]["items"][0]), kind
