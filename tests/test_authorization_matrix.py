"""The authorization matrix, generated from the policy, the route table and the command tree.

HTTP: every /api/v1 route names its action, and for every route, anonymous callers get 401,
roles the policy leaves out get 403 before anything runs, and the roles it lets in are not
refused for their role. WebSocket: every channel kind of the policy, public and private (your
own orders, another user's), for anonymous and each role. Commands: every typer command names
a policy action (or is one of the few that act as nobody), and a representative set run as each
role: the roles the policy leaves out get exit 4."""

from __future__ import annotations

import uuid

import pytest
import typer
from fastapi.routing import APIRoute
from sqlalchemy import text
from starlette.websockets import WebSocketDisconnect

from alefctl.commands.common import command_errors, requires
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


# --- WebSocket channels ---------------------------------------------------------------------

def _ws_answer(api, channel: str, email: str | None) -> str:  # noqa: ANN001
    """How /api/v1/ws answers a subscription: 'closed' (no identity), 'subscribed', 'forbidden'
    or 'unknown' (a kind it does not serve); any other error by its detail."""
    headers = {"Authorization": f"Bearer {api.key(email)}"} if email else {}
    with api.client.websocket_connect("/api/v1/ws", headers=headers) as socket:
        try:
            socket.send_json({"op": "subscribe", "channel": channel})
            for _ in range(3):  # a book channel's snapshot comes before "subscribed"
                message = socket.receive_json()
                if message["type"] == "subscribed":
                    return "subscribed"
                if message.get("code") == "forbidden":
                    return "forbidden"
                if message.get("detail", "").startswith("unknown channel"):
                    return "unknown"
                if message["type"] == "error":
                    return f"error: {message.get('detail')}"
        except WebSocketDisconnect as closed:
            assert closed.code == 4001
            return "closed"
    raise AssertionError(f"no answer to {channel} as {email}")


def test_each_role_on_each_websocket_channel(api, platform) -> None:  # noqa: ANN001
    platform.draft_token("DATE")  # a token's channels exist once the token does
    with platform.engine.begin() as conn:
        create_user(conn, platform.admin, NewUser("ivan@x.io", "Ivan", "investor"))
        create_user(conn, platform.admin, NewUser("otto@x.io", "Otto", "operator"))
        create_user(conn, platform.admin, NewUser("vera@x.io", "Vera", "investor"))
        ids = dict(conn.execute(text("SELECT email, id::text FROM users")).all())
    assert policy.CHANNELS == ("book", "trades", "orders", "notifications")  # a new kind joins
    wrong = []
    for kind in policy.CHANNELS:
        private = kind in policy.PRIVATE_CHANNELS
        if _ws_answer(api, f"{kind}:DATE", None) != "closed":
            wrong.append(f"{kind} anonymous")
        for role, email in ROLE_USERS.items():
            cases = ({"own": (f"{kind}:{ids[email]}", "subscribed"),
                      "another user's": (f"{kind}:{ids['vera@x.io']}", "forbidden"),
                      "short name": (kind, "subscribed")} if private
                     else {"public": (f"{kind}:DATE", "subscribed")})
            for case, (channel, expected) in cases.items():
                got = _ws_answer(api, channel, email)
                if got != expected:
                    wrong.append(f"{channel} ({case}) as {role}: {got}, expected {expected}")
    assert _ws_answer(api, "secrets:DATE", "admin@x.io") == "unknown"  # no kind the policy omits
    assert wrong == []


# --- commands -------------------------------------------------------------------------------

# Commands that act as nobody (README, "Who acts"), and db init, which checks db.init itself
# once the platform has an admin (the first run bootstraps it).
NO_IDENTITY = {"login", "logout", "whoami", "demo", "db stop", "config show", "chain node"}
CHECKED_INSIDE = {"db init": "db.init"}


def commands(app: typer.Typer) -> dict[str, object]:
    """Every leaf command of a typer app by its full name, with its callback."""
    found: dict[str, object] = {}

    def walk(command, path: tuple[str, ...]) -> None:  # noqa: ANN001
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = command.callback

    walk(typer.main.get_command(app), ())
    return found


def unpoliced(app: typer.Typer) -> list[str]:
    """Commands that name no policy action (or an unknown one), or bypass command_errors."""
    bad = []
    for name, callback in commands(app).items():
        action = getattr(callback, "alef_action", None) or CHECKED_INSIDE.get(name)
        if not getattr(callback, "alef_errors", False):
            bad.append(f"{name}: not wrapped in command_errors")
        if name in NO_IDENTITY:
            if action is not None:
                bad.append(f"{name}: listed as acting as nobody but requires {action}")
        elif action is None or action not in policy.ACTIONS:
            bad.append(f"{name}: {action or 'no @requires'}")
    return bad


def _root_commands() -> list[str]:
    """The command names as `alefctl --help` and each group's help list them (click's view)."""
    from alefctl.cli import app

    names = []
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        subs = getattr(command, "commands", {})
        names += [name] if not subs else [f"{name} {sub}" for sub in subs]
    return names


def test_every_command_names_a_policy_action() -> None:
    from alefctl.cli import app

    found = commands(app)
    assert len(found) > 70
    # The generator sees every command: the registered groups' own command lists, flattened by
    # typer's registration API, give the same names (nested groups such as user api-key too).
    registered = set()
    for info in app.registered_commands:
        registered.add(info.name or info.callback.__name__)
    for group in app.registered_groups:
        for info in group.typer_instance.registered_commands:
            registered.add(f"{group.name} {info.name}")
        for sub in group.typer_instance.registered_groups:
            registered |= {f"{group.name} {sub.name} {i.name}"
                           for i in sub.typer_instance.registered_commands}
    assert registered == set(found)
    assert {name.split()[0] for name in _root_commands()} == {name.split()[0] for name in found}
    assert unpoliced(app) == []
    assert NO_IDENTITY | CHECKED_INSIDE.keys() <= found.keys()


def test_a_new_command_without_a_policy_entry_fails_the_matrix() -> None:
    from alefctl.cli import app

    extra = typer.Typer()

    @extra.command("sweep")
    @command_errors
    def sweep() -> None:
        """A new command someone forgot to put in the policy."""

    @extra.command("named")
    @command_errors
    @requires("wallet.deposit")
    def named() -> None:
        """A new command with its action."""

    app.add_typer(extra, name="newgroup")
    try:
        assert unpoliced(app) == ["newgroup sweep: no @requires"]
    finally:
        app.registered_groups.pop()
    assert unpoliced(app) == []
    with pytest.raises(KeyError):  # and an action the policy does not know fails at import
        requires("wallet.sweep")


# A representative run of each role's door: the arguments are valid, so a refusal can only be
# the role's ({me} is the acting user's e-mail).
REPRESENTATIVE = [
    ("check",), ("db", "status"), ("audit", "verify"), ("audit", "list"), ("token", "mature-due"),
    ("user", "list"), ("approvals", "list"), ("settlement", "list"), ("otc", "list"),
    ("wallet", "deposit", "--user", "{me}", "--amount", "1"),
    ("wallet", "show", "--user", "{me}"), ("user", "api-key", "list", "{me}"), ("token", "list"),
    ("order", "list"), ("kyc", "list"), ("dividend", "list"),
    ("dividend", "declare", "NOPE", "--type", "fiat", "--per-token-usd", "1"),
    ("token", "subscribe", "NOPE", "--quantity", "1"),
]


def test_each_role_runs_the_representative_commands(cli) -> None:  # noqa: ANN001
    from alefctl.cli import app

    found = commands(app)
    for role, email in ROLE_USERS.items():
        made = cli("user", "create", "--email", email, "--name", role.title(), "--role", role)
        assert made.exit_code == 0, made.stderr
    as_role = {role: cli.as_user(email) for role, email in ROLE_USERS.items()}
    covered, wrong = set(), []
    for args in REPRESENTATIVE:
        name = " ".join(a for a in args[:3] if not a.startswith("-") and a in _words(found))
        action = found[name].alef_action  # type: ignore[attr-defined]
        covered.add(policy.roles_for(action))
        anonymous = cli(*[a.replace("{me}", "admin@x.io") for a in args], ALEF_API_KEY="")
        if anonymous.exit_code != 4 or "alefctl login" not in anonymous.stderr:
            wrong.append(f"{name} anonymous: {anonymous.exit_code} {anonymous.stderr[:100]}")
        for role, email in ROLE_USERS.items():
            result = as_role[role](*[a.replace("{me}", email) for a in args])
            refused = result.exit_code == 4 and "needs role" in result.stderr
            if refused == (role in policy.roles_for(action)):
                wrong.append(f"{name} ({action}) as {role}: {result.exit_code}"
                             f" {result.stderr.strip()[:120]}")
    assert wrong == []
    # every role appears both allowed and refused somewhere in the set
    assert {role for roles in covered for role in roles} == set(policy.ROLES)
    assert all(any(role not in roles for roles in covered) for role in policy.ROLES)


def _words(found: dict[str, object]) -> set[str]:
    return {word for name in found for word in name.split()}
