"""Bad input is a 4xx problem, never a 5xx: the edge rules (server/edge.py) on query and path
parameters and JSON bodies, on FastAPI's routes and on the order fast path alike."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from alefctl.server import create_app
from alefctl.server.edge import EdgeRoute
from alefctl.settings import load_settings

PROBLEM = "application/problem+json"
NAIVE = "2030-01-01T00:00:00"
TOKEN = {"business_id": "b", "name": "Acme", "symbol": "ACME", "total_supply": 1000,
         "price_per_token": "2.50", "primary_offering_pct": "90", "team_pct": "5"}
ORDER = {"token_id": "DATE", "side": "buy", "quantity": 1, "price": "10.00"}
DIVIDEND = {"token_id": "DATE", "dividend_type": "fiat", "per_token_usd": "0.25"}


def _refused(response, field: str | None = None) -> None:  # noqa: ANN001
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "invalid_input"
    if field is not None:
        assert body["field"] == field, body


def test_every_route_checks_its_arguments(tmp_path) -> None:  # noqa: ANN001
    app = create_app(load_settings(home=tmp_path))
    routers = [getattr(r, "original_router", r) for r in app.routes]
    routes = [route for router in routers for route in getattr(router, "routes", [router])
              if isinstance(route, APIRoute)]
    assert len(routes) > 30
    unchecked = [route.path for route in routes
                 if route.path.startswith("/api/v1") and not isinstance(route, EdgeRoute)]
    assert unchecked == []


@pytest.mark.parametrize(("who", "path", "field"), [
    ("ivy", "/api/v1/orders?status=%00x", "status"),
    ("ivy", "/api/v1/orders?token=D%00ATE", "token"),
    ("ivy", "/api/v1/trades?token=%00", "token"),
    ("ivy", "/api/v1/tokens?status=open%00", "status"),
    ("ivy", "/api/v1/orders/%00", "order_id"),
    ("ivy", "/api/v1/tokens/DATE%00", "token_id"),
    ("ivy", "/api/v1/orderbook/DA%00TE", "token_id"),
    ("ivy", "/api/v1/orderbook/DATE?levels=99999999999999999999", "levels"),
    ("admin", "/api/v1/admin/trades?limit=9223372036854775808", "limit"),
    ("admin", "/api/v1/admin/trades?user=a%00@x.io", "user"),
    ("admin", "/api/v1/admin/kyc?status=%00", "status"),
    ("admin", "/api/v1/dividends/%00", "dividend_id"),
])
def test_query_and_path_parameters(api, platform, who: str, path: str, field: str) -> None:  # noqa: ANN001
    platform.approved("ivy")
    _refused(api.call("GET", path, f"{who}@x.io"), field)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/tokens", {**TOKEN, "name": "Ac\x00me"}, "name"),
    ("/api/v1/tokens", {**TOKEN, "maturity_date": NAIVE}, "maturity_date"),
    ("/api/v1/tokens", {**TOKEN, "total_supply": 2**63}, "total_supply"),
    ("/api/v1/tokens", {**TOKEN, "min_investment": -(2**63) - 1}, "min_investment"),
    ("/api/v1/tokens", {**TOKEN, "price_per_token": "1e20"}, "price_per_token"),
    ("/api/v1/tokens", {**TOKEN, "price_per_token": "NaN"}, None),
    ("/api/v1/tokens", {**TOKEN, "tick_size": "1e-400"}, "tick_size"),
    ("/api/v1/dividends", {**DIVIDEND, "per_token_usd": "123456789012345"}, "per_token_usd"),
    ("/api/v1/dividends", {**DIVIDEND, "record_date": NAIVE}, "record_date"),
    ("/api/v1/dividends", {**DIVIDEND, "per_token_qty": 10**30}, "per_token_qty"),
    ("/api/v1/admin/tokens/DATE/start-offering", {"ends_at": NAIVE}, "ends_at"),
    ("/api/v1/admin/tokens/DATE/start-offering", {"starts_at": "0001-01-01T00:00:00+05:00"},
     "starts_at"),
    ("/api/v1/admin/tokens/DATE/confirm-payment", {"allocation_ids": ["ok", "x\x00"]},
     "allocation_ids.1"),
    ("/api/v1/admin/otc-orders/abc", {"decision": "reject", "reason": "\x00"}, "reason"),
    ("/api/v1/businesses", {"company_name": "A", "registration_number": "R\x00",
                            "country": "AE", "industry": "x"}, "registration_number"),
])
def test_json_bodies(api, path: str, body: dict, field: str | None) -> None:  # noqa: ANN001
    who = "admin@x.io" if path.startswith("/api/v1/admin/") else "issuer@x.io"  # whom the policy lets in
    _refused(api.call("POST", path, who, json=body), field)


def test_a_lone_surrogate_is_refused(api) -> None:  # noqa: ANN001
    body = ('{"full_name": "A\\ud800", "nationality": "GB", "document_type": "passport",'
            ' "document_number": "1"}')
    _refused(api.call("POST", "/api/v1/kyc", "issuer@x.io", content=body,
                      headers={"content-type": "application/json"}))


@pytest.mark.parametrize(("body", "field"), [
    ({**ORDER, "client_order_id": "c\x00"}, "client_order_id"),
    ({**ORDER, "token_id": "DATE\x00"}, "token_id"),
    ({**ORDER, "quantity": 2**64}, "quantity"),
    ({**ORDER, "price": "1e30"}, "price"),
    ({**ORDER, "order_type": "stop_limit", "stop_price": "-Infinity"}, None),
])
def test_the_order_fast_path_applies_the_same_rules(api, platform, body: dict,  # noqa: ANN001
                                                    field: str | None) -> None:
    platform.approved("ivy")
    _refused(api.call("POST", "/api/v1/orders", "ivy@x.io", json=body), field)


def test_the_fast_path_cancel_refuses_nul(api, platform) -> None:  # noqa: ANN001
    platform.approved("ivy")
    _refused(api.call("DELETE", "/api/v1/orders/x%00y", "ivy@x.io"), "order_id")


def test_good_input_still_passes(api, platform) -> None:  # noqa: ANN001
    platform.approved("ivy")
    listed = api.call("GET", "/api/v1/orders?status=open&token=DATE", "ivy@x.io")
    assert listed.status_code == 200, listed.text
    business = platform.business()
    created = api.call("POST", "/api/v1/tokens", "issuer@x.io", json={
        **TOKEN, "business_id": business, "price_per_token": "2.500000",
        "maturity_date": "2030-01-01T00:00:00+04:00"})
    assert created.status_code == 201, created.text


def test_a_product_past_the_database_range_is_422(market) -> None:  # noqa: ANN001
    body = {"token_id": "DATE", "dividend_type": "token", "per_token_qty": 2**63 - 1}
    _refused(market.call("POST", "/api/v1/dividends", "issuer@x.io", json=body))


def test_an_order_past_every_limit_is_refused_not_failed(market) -> None:  # noqa: ANN001
    refused = market.call("POST", "/api/v1/orders", "carol@x.io", json={
        **ORDER, "quantity": 2**63 - 1, "price": "99999999999999"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "investment_limit"


def test_websocket_channel_with_nul_is_an_error_message(api, platform) -> None:  # noqa: ANN001
    platform.approved("ivy")
    key = api.key("ivy@x.io")
    with api.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        socket.send_json({"op": "subscribe", "channel": "book:DA\x00TE"})
        error = socket.receive_json()
        assert error["type"] == "error" and error["code"] == "invalid_channel"  # not subscribed
        socket.send_json({"op": "subscribe", "channel": "book:NOPE"})  # still serving
        assert socket.receive_json() == {"type": "error", "code": "not_found",
                                     "detail": "token not found: NOPE"}
