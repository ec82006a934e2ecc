"""Retries never trade twice: a resent client_order_id returns the original order whatever its
state, over the fast path, the FastAPI route and without a server; and cancelling an order that
is no longer open is a conflict (exit 5, HTTP 409), with a server running and without one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from platform_builders import live_token, wallet_for
from server_client import place as order
from sqlalchemy import text

D = Decimal
LIMITS_USD = (D(500), D(5000), D(50000))


def counts(api, email: str) -> tuple[int, int]:  # noqa: ANN001
    """(orders, trades) of a user."""
    with api.engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM orders o WHERE o.user_id = u.id),"
            " (SELECT count(*) FROM trades t WHERE u.id IN (t.buyer_id, t.seller_id))"
            " FROM users u WHERE u.email = :e"), {"e": email}).one())


def fastapi_route(api) -> TestClient:  # noqa: ANN001
    """A client of the FastAPI routes themselves, past the order fast path (the app is the
    running one: its lifespan already started the writer)."""
    app = api.client.app

    async def behind_the_fast_path(scope, receive, send) -> None:  # noqa: ANN001
        scope["app"] = app
        await FastAPI.__call__(app, scope, receive, send)

    return TestClient(behind_the_fast_path)


def test_a_marketable_order_sent_three_times_trades_once(market) -> None:  # noqa: ANN001
    order(market, "carol", "buy", 3, "10.00")
    answers = [order(market, "alice", "sell", 3, "10.00", client_order_id="v-1") for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    first = answers[0].json()
    assert first["status"] == "filled" and len(first["trades"]) == 1
    for resent in answers[1:]:
        body = resent.json()
        assert (body["id"], body["status"], body["filled_quantity"]) == (first["id"], "filled", 3)
        assert body["duplicate"] is True and body["trades"] == []  # this request traded nothing
    assert counts(market, "alice@x.io") == (1, 1)


def test_the_same_client_order_id_before_and_after_the_fill(market) -> None:  # noqa: ANN001
    placed = order(market, "alice", "sell", 2, "11.00", client_order_id="a-7")
    assert placed.status_code == 201 and placed.json()["status"] == "open"
    before = order(market, "alice", "sell", 2, "11.00", client_order_id="a-7")
    assert (before.status_code, before.json()["id"], before.json()["status"]) == (
        200, placed.json()["id"], "open")
    assert order(market, "carol", "buy", 2, "11.00").json()["status"] == "filled"
    after = order(market, "alice", "sell", 2, "11.00", client_order_id="a-7")
    assert (after.status_code, after.json()["id"], after.json()["status"]) == (
        200, placed.json()["id"], "filled")
    routed = fastapi_route(market).post(  # the FastAPI route answers the same
        "/api/v1/orders", headers={"Authorization": f"Bearer {market.key('alice@x.io')}"},
        json={"token_id": "DATE", "side": "sell", "quantity": 2, "price": "11.00",
              "client_order_id": "a-7"})
    assert (routed.status_code, routed.json()["id"], routed.json()["status"]) == (
        200, placed.json()["id"], "filled")
    another_body = order(market, "alice", "buy", 1, "9.00", client_order_id="a-7")
    assert another_body.json()["id"] == placed.json()["id"]  # the key is the id alone
    assert counts(market, "alice@x.io") == (1, 1)


def test_the_same_client_order_id_after_a_cancel(market) -> None:  # noqa: ANN001
    placed = order(market, "carol", "buy", 2, "9.00", client_order_id="c-1").json()
    cancelled = market.call("DELETE", f"/api/v1/orders/{placed['id']}", "carol@x.io")
    assert cancelled.json()["status"] == "cancelled"
    resent = order(market, "carol", "buy", 2, "9.00", client_order_id="c-1")
    assert (resent.status_code, resent.json()["id"], resent.json()["status"]) == (
        200, placed["id"], "cancelled")
    assert market.call("GET", "/api/v1/orders?status=open", "carol@x.io").json() == []


def test_the_window_is_24_hours_for_finished_orders_and_open_ones_are_always_found(market) -> None:  # noqa: ANN001
    done = order(market, "carol", "buy", 1, "9.00", client_order_id="old").json()
    market.call("DELETE", f"/api/v1/orders/{done['id']}", "carol@x.io")
    resting = order(market, "carol", "buy", 1, "8.00", client_order_id="old-open").json()
    with market.engine.begin() as conn:
        conn.execute(text("UPDATE orders SET created_at = created_at - interval '25 hours'"))
    renewed = order(market, "carol", "buy", 1, "9.00", client_order_id="old")
    assert renewed.status_code == 201 and renewed.json()["id"] != done["id"]  # the id is free
    again = order(market, "carol", "buy", 1, "9.00", client_order_id="old")
    assert again.json()["id"] == renewed.json()["id"]
    still = order(market, "carol", "buy", 1, "8.00", client_order_id="old-open")
    assert (still.status_code, still.json()["id"]) == (200, resting["id"])


def _group_place(platform, who: str, side: str, quantity: int, price: str,  # noqa: ANN001
                 client_order_id: str | None = None) -> dict:
    """Place an order without a server: the order group run directly, as commands do."""
    from alefctl.db.system_users import treasury_id
    from alefctl.workflows.orders import OrderRequest
    from alefctl.workflows.trading.books import Books
    from alefctl.workflows.trading.funds import NotionalLimits
    from alefctl.workflows.trading.group import OrderGroup, PlaceOrder
    from alefctl.workflows.trading.state import MonotonicClock

    request = OrderRequest("DATE", side, "limit", quantity, D(price),
                           client_order_id=client_order_id)
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(), NotionalLimits(*LIMITS_USD), treasury_id(conn),
                           MonotonicClock())
        outcome = group.run(PlaceOrder(platform.actor(f"{who}@x.io"), request))
        group.flush()
    assert isinstance(outcome, dict), outcome
    return outcome


@pytest.fixture
def quiet_market(platform, chain_client):  # noqa: ANN001, ANN201
    """DATE live, no server running: alice holds 100, carol has $50,000."""
    live_token(platform, chain_client, "DATE", {"alice": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    return platform


def test_without_a_server_a_resent_client_order_id_returns_the_original(quiet_market) -> None:  # noqa: ANN001
    first = _group_place(quiet_market, "alice", "sell", 2, "10.00", "n-1")
    assert first["status"] == "open" and not first.get("duplicate")
    assert _group_place(quiet_market, "alice", "sell", 2, "10.00", "n-1")["id"] == first["id"]
    assert _group_place(quiet_market, "carol", "buy", 2, "10.00")["status"] == "filled"
    after = _group_place(quiet_market, "alice", "sell", 2, "10.00", "n-1")
    assert (after["id"], after["status"], after["duplicate"]) == (first["id"], "filled", True)
    with quiet_market.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM trades")).scalar_one() == 1


def test_cancel_of_an_order_no_longer_open_with_a_server(market, cli) -> None:  # noqa: ANN001
    carol = cli.as_user("carol@x.io")
    order(market, "alice", "sell", 1, "10.00")
    filled = order(market, "carol", "buy", 1, "10.00").json()
    assert filled["status"] == "filled"
    refused = carol("order", "cancel", filled["id"], "--yes")
    assert refused.exit_code == 5 and "already filled" in refused.stderr, refused.stderr
    http = market.call("DELETE", f"/api/v1/orders/{filled['id']}", "carol@x.io")
    assert http.status_code == 409 and http.headers["content-type"] == "application/problem+json"
    assert "already filled" in http.json()["detail"]
    routed = fastapi_route(market).delete(
        f"/api/v1/orders/{filled['id']}",
        headers={"Authorization": f"Bearer {market.key('carol@x.io')}"})
    assert routed.status_code == 409 and "already filled" in routed.json()["detail"]
    resting = order(market, "carol", "buy", 1, "9.00").json()
    assert cli.as_user("alice@x.io")("order", "cancel", resting["id"], "--yes").exit_code == 3
    assert carol("order", "cancel", resting["id"], "--yes").exit_code == 0
    again = carol("order", "cancel", resting["id"], "--yes")
    assert again.exit_code == 5 and "already cancelled" in again.stderr


def test_cancel_of_an_order_no_longer_open_without_a_server(quiet_market, cli) -> None:  # noqa: ANN001
    carol = cli.as_user("carol@x.io")
    _group_place(quiet_market, "alice", "sell", 1, "10.00")
    filled = _group_place(quiet_market, "carol", "buy", 1, "10.00")
    refused = carol("order", "cancel", str(filled["id"]), "--yes")
    assert refused.exit_code == 5 and "already filled" in refused.stderr, refused.stderr
    resting = _group_place(quiet_market, "carol", "buy", 1, "9.00")
    assert carol("order", "cancel", str(resting["id"]), "--yes").exit_code == 0
    again = carol("order", "cancel", str(resting["id"]), "--yes")
    assert again.exit_code == 5 and "already cancelled" in again.stderr


def test_an_otc_order_resent_is_queued_once(market, platform) -> None:  # noqa: ANN001
    from alefctl.workflows.otc import set_trading_mode

    with platform.engine.begin() as conn:
        set_trading_mode(conn, platform.admin, "DATE", "fixed_price_otc", "10.00")
    first = order(market, "carol", "buy", 3, "10.00", client_order_id="otc-1")
    assert first.status_code == 201 and first.json()["status"] == "pending"
    again = order(market, "carol", "buy", 3, "10.00", client_order_id="otc-1")
    assert (again.status_code, again.json()["id"], again.json()["duplicate"]) == (
        200, first.json()["id"], True)
    market.call("POST", f"/api/v1/admin/otc-orders/{first.json()['id']}", "admin@x.io",
                json={"decision": "approve"})
    executed = order(market, "carol", "buy", 3, "10.00", client_order_id="otc-1")
    assert (executed.status_code, executed.json()["status"]) == (200, "executed")
    with market.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM otc_orders")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM trades")).scalar_one() == 1
