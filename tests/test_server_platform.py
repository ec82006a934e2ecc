"""The platform endpoints: same workflows as the commands, problem+json errors, role checks."""

from __future__ import annotations

import pytest

PROBLEM = "application/problem+json"


def test_health_ready_metrics_openapi(api) -> None:  # noqa: ANN001
    assert api.call("GET", "/healthz").json() == {"status": "ok"}
    assert api.call("GET", "/readyz").json() == {"status": "ready"}
    assert "alef_orders_total" in api.call("GET", "/metrics").text
    paths = api.call("GET", "/openapi.json").json()["paths"]
    assert "/api/v1/kyc" in paths and "/api/v1/admin/kyc/{application_id}/review" in paths


def test_missing_or_bad_key_is_401_problem(api) -> None:  # noqa: ANN001
    for headers in ({}, {"Authorization": "Bearer alef_nope"}, {"Authorization": "Basic x"}):
        response = api.call("GET", "/api/v1/tokens", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "unauthenticated"


def test_kyc_over_http(api, platform) -> None:  # noqa: ANN001
    platform.person("bob")
    body = {"full_name": "Bob", "nationality": "GB", "document_type": "passport",
            "document_number": "GB998877"}
    created = api.call("POST", "/api/v1/kyc", "bob@x.io", json=body)
    assert created.status_code == 201 and created.json()["document_number"] == "••••8877"
    again = api.call("POST", "/api/v1/kyc", "bob@x.io", json=body)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert api.call("GET", "/api/v1/admin/kyc", "bob@x.io").status_code == 403
    queue = api.call("GET", "/api/v1/admin/kyc?status=pending", "reviewer@x.io").json()
    assert [a["id"] for a in queue] == [created.json()["id"]]
    detail = api.call("GET", f"/api/v1/admin/kyc/{queue[0]['id']}", "reviewer@x.io").json()
    assert detail["document_number"] == "GB998877" and detail["status"] == "in_review"
    no_reason = api.call("POST", f"/api/v1/admin/kyc/{queue[0]['id']}/review", "reviewer@x.io",
                         json={"decision": "reject"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    approved = api.call("POST", f"/api/v1/admin/kyc/{queue[0]['id']}/review", "reviewer@x.io",
                        json={"decision": "approve", "kyc_level": 3})
    assert approved.status_code == 200 and approved.json()["kyc_level"] == 3


@pytest.mark.parametrize("body", [
    {"full_name": "X"},                                                   # missing fields
    {"full_name": "X", "nationality": "GB", "document_type": "passport",
     "document_number": "1" * 51},                                        # too long
    "not json",
])
def test_bad_bodies_are_422_not_500(api, platform, body) -> None:  # noqa: ANN001
    platform.person("bob")
    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
    response = api.call("POST", "/api/v1/kyc", "bob@x.io", **kwargs)
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM


def test_business_and_token_over_http(api, platform) -> None:  # noqa: ANN001
    registered = api.call("POST", "/api/v1/businesses", "issuer@x.io", json={
        "company_name": "Acme", "registration_number": "R-77", "country": "AE",
        "industry": "dates", "alef_allocation_pct": "5"})
    assert registered.status_code == 201
    business_id = registered.json()["id"]
    assert api.call("PATCH", f"/api/v1/admin/businesses/{business_id}", "issuer@x.io",
                    json={"status": "active"}).status_code == 403
    assert api.call("PATCH", f"/api/v1/admin/businesses/{business_id}", "admin@x.io",
                    json={"status": "active"}).json()["status"] == "active"
    token = api.call("POST", "/api/v1/tokens", "issuer@x.io", json={
        "business_id": business_id, "name": "Acme", "symbol": "ACME", "total_supply": 1000,
        "price_per_token": "2.50", "primary_offering_pct": "90", "team_pct": "5"})
    assert token.status_code == 201 and token.json()["status"] == "draft"
    bad = api.call("POST", "/api/v1/tokens", "issuer@x.io", json={
        "business_id": business_id, "name": "Acme", "symbol": "acme", "total_supply": 1000,
        "price_per_token": "2.50", "primary_offering_pct": "90", "team_pct": "5"})
    assert bad.status_code == 422 and bad.json()["field"] == "symbol"
    not_deployed = api.call("POST", "/api/v1/admin/tokens/ACME/start-offering", "admin@x.io")
    assert not_deployed.status_code == 409 and "not deployed" in not_deployed.json()["detail"]
    assert api.call("GET", "/api/v1/tokens/NOPE", "issuer@x.io").status_code == 404
