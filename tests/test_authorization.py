"""Every route x every role, and anonymous: who may call what, and never a 5xx."""

from __future__ import annotations

import re
import uuid

import pytest

ROLES = ("investor", "issuer", "kyc_reviewer", "admin")


def _routes(app) -> list[tuple[str, str]]:  # noqa: ANN001
    """Every documented /api/v1 operation (the WebSocket has its own test)."""
    return sorted((method.upper(), path) for path, operations in app.openapi()["paths"].items()
                  if path.startswith("/api/v1") for method in operations)


def _allowed(method: str, path: str) -> tuple[str, ...]:
    """Roles the route itself lets through (workflows may refuse further, with 403 or 404)."""
    if path.startswith("/api/v1/admin/kyc"):
        return ("kyc_reviewer", "admin")
    if path.startswith("/api/v1/admin/"):
        return ("admin",)
    if (method, path) == ("POST", "/api/v1/orders"):
        return ("investor",)
    if (method, path) == ("DELETE", "/api/v1/orders/{order_id}"):
        return ("investor", "admin")
    return ROLES


@pytest.fixture
def people(api, platform):  # noqa: ANN001, ANN201
    platform.person("inv")
    platform.person("rev", role="kyc_reviewer")
    return {"investor": "inv@x.io", "issuer": "issuer@x.io", "kyc_reviewer": "rev@x.io",
            "admin": "admin@x.io"}


def test_authorization_matrix(api, people) -> None:  # noqa: ANN001
    routes = _routes(api.client.app)
    assert len(routes) >= 20
    problems = []
    for method, path in routes:
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        anonymous = api.call(method, concrete, **kwargs)
        if anonymous.status_code != 401:
            problems.append(f"anonymous {method} {path}: {anonymous.status_code}")
        for role, email in people.items():
            status = api.call(method, concrete, email, **kwargs).status_code
            if status >= 500:
                problems.append(f"{role} {method} {path}: {status}")
            elif role not in _allowed(method, path) and status != 403:
                problems.append(f"{role} {method} {path}: {status}, expected 403")
            elif role in _allowed(method, path) and status == 401:
                problems.append(f"{role} {method} {path}: 401")
    assert problems == []
