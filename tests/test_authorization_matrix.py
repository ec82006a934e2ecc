"""The authorization matrix, generated from the policy and the route table: every /api/v1 route
names its action, and for every route, anonymous callers get 401, roles the policy leaves out
get 403 before anything runs, and the roles it lets in are not refused for their role."""

from __future__ import annotations

import uuid

from fastapi.routing import APIRoute

from alefctl.workflows import policy
from alefctl.workflows.users import NewUser, create_user

PUBLIC = {"/healthz", "/readyz", "/metrics"}
ROLE_USERS = {"investor": "ivan@x.io", "issuer": "issuer@x.io", "kyc_reviewer": "reviewer@x.io",
              "operator": "otto@x.io", "admin": "admin@x.io"}


def route_action(route: APIRoute) -> str | None:
    """The policy action a route's dependencies name, if any."""
    calls = [dep.call for dep in route.dependant.dependencies]
    actions = [getattr(call, "alef_action", None) for call in calls]
    named = [action for action in actions if action]
    assert len(named) <= 1, route.path
    return named[0] if named else None


def _all_routes(app) -> list[APIRoute]:  # noqa: ANN001
    routers = [getattr(r, "original_router", r) for r in app.routes]  # included routers, flattened
    return [route for router in routers for route in getattr(router, "routes", [router])
            if isinstance(route, APIRoute)]


def _routes(app) -> list[APIRoute]:  # noqa: ANN001
    return [r for r in _all_routes(app) if r.path.startswith("/api/v1")]


def _path(route: APIRoute) -> str:
    filled = route.path.replace("{action}", "pause").replace("{token_id}", "NOPE")
    while "{" in filled:
        start, end = filled.index("{"), filled.index("}")
        filled = filled[:start] + str(uuid.uuid4()) + filled[end + 1:]
    return filled


def test_every_api_route_names_a_policy_action(api) -> None:  # noqa: ANN001
    app = api.client.app
    assert len(_routes(app)) > 30
    unnamed = [f"{sorted(r.methods)} {r.path}" for r in _routes(app) if route_action(r) is None]
    assert unnamed == []
    unknown = {route_action(r) for r in _routes(app)} - policy.ACTIONS.keys()
    assert unknown == set()
    assert {r.path for r in _all_routes(app)} - {r.path for r in _routes(app)} <= PUBLIC


def test_each_role_on_each_route(api, platform) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        create_user(conn, platform.admin, NewUser("ivan@x.io", "Ivan", "investor"))
        create_user(conn, platform.admin, NewUser("otto@x.io", "Otto", "operator"))
    wrong = []
    for route in _routes(api.client.app):
        action = route_action(route)
        method, path = sorted(route.methods)[0], _path(route)
        body = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        anonymous = api.call(method, path, **body)
        if anonymous.status_code != 401:
            wrong.append(f"{method} {route.path} anonymous: {anonymous.status_code}")
        for role, email in ROLE_USERS.items():
            answer = api.call(method, path, email, **body)
            refused_for_role = answer.status_code == 403 and "needs role" in answer.text
            if refused_for_role == (role in policy.roles_for(action)):
                wrong.append(f"{method} {route.path} ({action}) as {role}: {answer.status_code}"
                             f" {answer.text[:120]}")
    assert wrong == []
