"""The order fast path: place and cancel answered ahead of FastAPI, with FastAPI's problems."""

from __future__ import annotations

import asyncio

from server_client import place

from alefctl.server.order_path import OrderFastPath
from alefctl.settings import ServerSettings


def test_only_place_and_cancel_take_the_fast_path() -> None:
    passed_on: list[tuple[str, str]] = []

    async def fastapi(scope, _receive, _send) -> None:  # noqa: ANN001
        passed_on.append((scope["method"], scope["path"]))

    fast_path = OrderFastPath(fastapi)
    requests = [("GET", "/api/v1/orders"), ("POST", "/api/v1/orders/"),
                ("DELETE", "/api/v1/orders/"), ("DELETE", "/api/v1/orders/a/b"),
                ("POST", "/api/v1/orderbook"), ("PUT", "/api/v1/orders/x")]
    for method, path in requests:
        asyncio.run(fast_path({"type": "http", "method": method, "path": path, "headers": []},
                              None, None))
    assert passed_on == requests


def test_fast_path_refusals_are_fastapis_problems(market) -> None:  # noqa: ANN001
    def problem(response) -> tuple[int, str, str]:  # noqa: ANN001
        assert response.headers["content-type"] == "application/problem+json", response.text
        return response.status_code, response.json()["code"], response.json().get("field", "")

    anonymous = market.call("POST", "/api/v1/orders", json={"token_id": "DATE"})
    assert problem(anonymous) == (401, "unauthenticated", "")
    staff = market.call("POST", "/api/v1/orders", "admin@x.io", json={"token_id": "DATE"})
    assert problem(staff)[:2] == (403, "permission_denied")
    missing_side = market.call("POST", "/api/v1/orders", "carol@x.io",
                               json={"token_id": "DATE", "quantity": 1})
    assert problem(missing_side) == (422, "invalid_input", "")
    assert missing_side.json()["detail"].startswith("side:")
    not_json = market.call("POST", "/api/v1/orders", "carol@x.io", content=b"{side")
    assert problem(not_json)[:2] == (422, "invalid_input")
    limit = ServerSettings().max_body_bytes
    huge = market.call("POST", "/api/v1/orders", "carol@x.io", content=b" " * (limit + 1))
    assert problem(huge)[:2] == (413, "payload_too_large")
    unknown = market.call("DELETE", "/api/v1/orders/00000000-0000-7000-8000-000000000000",
                          "carol@x.io")
    assert problem(unknown)[:2] == (404, "not_found")


def test_fast_path_places_and_cancels(market) -> None:  # noqa: ANN001
    resting = place(market, "carol", "buy", 2, "9.00")
    assert resting.status_code == 201 and resting.json()["status"] == "open"
    order_id = resting.json()["id"]
    not_hers = market.call("DELETE", f"/api/v1/orders/{order_id}", "alice@x.io")
    assert not_hers.status_code == 404
    cancelled = market.call("DELETE", f"/api/v1/orders/{order_id}", "carol@x.io")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
