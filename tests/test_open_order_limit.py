"""At most settings.trading.max_open_orders open orders (pending stops included) per investor
per token: the next is refused with 409 `too_many_open_orders`; a fill or a cancel frees a slot
(workflows/trading/group.py, counted with the books in books.py)."""

from __future__ import annotations

import concurrent.futures
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from platform_builders import live_token, wallet_for

from alefctl.errors import TooManyOpenOrders
from alefctl.server import create_app
from alefctl.server.writer import OrderWriter
from alefctl.settings import load_settings
from alefctl.workflows.api_keys import create_api_key
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import CancelOrder, PlaceOrder

D = Decimal
LIMITS = NotionalLimits(D(500), D(5000), D(50000), max_open_orders=3)


def sell(price: str, quantity: int = 1, order_type: str = "limit") -> OrderRequest:
    if order_type == "stop_loss":
        return OrderRequest("DATE", "sell", "stop_loss", quantity, None, D(price))
    return OrderRequest("DATE", "sell", "limit", quantity, D(price))


@pytest.fixture
def traders(platform, chain_client):  # noqa: ANN001, ANN201
    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    return tuple(platform.actor(f"{name}@x.io", "api") for name in ("alice", "bob", "carol"))


def test_the_limit_holds_within_a_group_and_across_restarts(platform, traders) -> None:  # noqa: ANN001
    alice, bob, carol = traders
    writer = OrderWriter(platform.engine, LIMITS, lambda _report: None)
    queued = [writer.submit(PlaceOrder(alice, sell(f"10.5{i}"))) for i in range(5)]
    queued.append(writer.submit(PlaceOrder(bob, sell("10.60"))))  # bob's own count
    writer.start()  # one group takes them all
    try:
        concurrent.futures.wait(queued, timeout=30)
        assert [f.exception() is None for f in queued] == [True] * 3 + [False] * 2 + [True]
        refused = queued[3].exception()
        assert isinstance(refused, TooManyOpenOrders)
        assert (refused.http_status, refused.code) == (409, "too_many_open_orders")
        first = queued[0].result()
        writer.submit(CancelOrder(alice, str(first["id"]))).result(timeout=10)
        stop = writer.submit(PlaceOrder(alice, sell("5.00", order_type="stop_loss")))
        assert stop.result(timeout=10)["status"] == "pending_stop"  # a stop takes a slot
        with pytest.raises(TooManyOpenOrders):
            writer.submit(PlaceOrder(alice, sell("10.59"))).result(timeout=10)
        # carol buys one of alice's: filled, it frees a slot; a buy that fills at once takes none
        buy = OrderRequest("DATE", "buy", "limit", 1, D("10.51"))
        assert writer.submit(PlaceOrder(carol, buy)).result(timeout=10)["status"] == "filled"
        assert writer.submit(PlaceOrder(alice, sell("10.58"))).result(timeout=10)["status"] == "open"
    finally:
        writer.stop()
    again = OrderWriter(platform.engine, LIMITS, lambda _report: None)
    again.start()  # the count comes back from the database
    try:
        with pytest.raises(TooManyOpenOrders):
            again.submit(PlaceOrder(alice, sell("10.57"))).result(timeout=10)
        assert again.submit(PlaceOrder(bob, sell("10.61"))).result(timeout=10)["status"] == "open"
    finally:
        again.stop()


def test_over_http_it_is_a_409_problem(platform, traders, engine, db_url, tmp_path) -> None:  # noqa: ANN001
    settings = load_settings(home=tmp_path / "home", database={"url": db_url},
                             server={"settlement_loop": False}, trading={"max_open_orders": 1})
    with engine.begin() as conn:
        key = create_api_key(conn, platform.admin, "alice@x.io", "tests")[1]
    body = {"token_id": "DATE", "side": "sell", "quantity": 1, "price": "10.50"}
    with TestClient(create_app(settings, engine)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        assert client.post("/api/v1/orders", json=body, headers=headers).status_code == 201
        refused = client.post("/api/v1/orders", json=body, headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "too_many_open_orders"
    assert "DATE" in refused.json()["detail"]
