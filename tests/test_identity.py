"""Who acts: every command runs as the owner of an API key (ALEF_API_KEY or `alefctl login`),
and the policy's roles decide what it may do."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine

from alefctl.workflows import policy

# Commands that act as nobody: they change nothing of the platform, or set the identity up.
IDENTITY_FREE = {"login", "logout", "whoami", "config show", "db init", "db stop", "demo",
                 "chain node"}


def _commands(group: typer.Typer, prefix: str = "") -> dict[str, object]:
    found = {}
    for info in group.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        found[f"{prefix}{name}"] = info.callback
    for sub in group.registered_groups:
        found.update(_commands(sub.typer_instance, f"{prefix}{sub.name} "))
    return found


def test_every_command_names_its_action_in_the_policy() -> None:
    from alefctl.cli import app

    commands = _commands(app)
    undeclared = sorted(name for name, callback in commands.items()
                        if name not in IDENTITY_FREE and not hasattr(callback, "alef_action"))
    assert undeclared == []
    assert all(getattr(cb, "alef_action", None) in (None, *policy.ACTIONS) for cb in commands.values())
    assert commands.keys() >= IDENTITY_FREE


def test_help_names_the_roles(cli) -> None:  # noqa: ANN001
    assert "Role: operator, admin." in cli("check", "--help").stdout
    assert "Role: admin." in cli("wallet", "deposit", "--help").stdout


def test_no_key_bad_key_and_revoked_key_are_refused(cli) -> None:  # noqa: ANN001
    for key in ("", "alef_not-a-key"):
        refused = cli("check", ALEF_API_KEY=key)
        assert refused.exit_code == 4 and "alefctl login" in refused.stderr
    investor = cli.json("user", "create", "--email", "ivy@x.io", "--name", "Ivy")["email"]
    secret = cli.json("user", "api-key", "create", investor)["secret"]
    assert cli("whoami", ALEF_API_KEY=secret).exit_code == 0
    assert cli("user", "api-key", "revoke", secret[:13], "--yes").exit_code == 0
    revoked = cli("whoami", ALEF_API_KEY=secret)
    assert revoked.exit_code == 4 and "revoked" in revoked.stderr


@pytest.mark.parametrize(("role", "allowed", "refused"), [
    ("operator", [("check",), ("settlement", "run", "--once")], [("user", "list"),
                                                              ("wallet", "deposit", "--user", "x@x.io",
                                                               "--amount", "1")]),
    ("investor", [("whoami",)], [("check",), ("settlement", "run", "--once"), ("user", "list")]),
    ("kyc_reviewer", [("kyc", "list")], [("check",), ("user", "list")]),
    ("issuer", [("business", "list")], [("kyc", "list"), ("check",)]),
    ("admin", [("check",), ("user", "list"), ("kyc", "list")], []),
])
def test_each_role_may_do_what_the_policy_says(cli, role: str, allowed: list, refused: list) -> None:  # noqa: ANN001
    cli.json("user", "create", "--email", f"{role}@x.io", "--name", role.title(), "--role", role)
    acting = cli.as_user(f"{role}@x.io")
    for argv in allowed:
        result = acting(*argv)
        assert result.exit_code == 0, (argv, result.stderr)
    for argv in refused:
        result = acting(*argv)
        assert result.exit_code == 4, (argv, result.stderr)
        assert "needs role" in result.stderr


def test_login_whoami_logout(cli, tmp_path: Path) -> None:  # noqa: ANN001
    cli.json("user", "create", "--email", "ops@x.io", "--name", "Ops", "--role", "operator")
    secret = cli.json("user", "api-key", "create", "ops@x.io")["secret"]
    anonymous = {"ALEF_API_KEY": ""}
    bad = cli("login", input="alef_wrong\n", **anonymous)
    assert bad.exit_code == 4
    logged = cli.json("login", input=secret + "\n", **anonymous)
    path = Path(logged["credentials"])
    assert logged["email"] == "ops@x.io" and path.parent == Path(cli.env["ALEF_HOME"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["api_key"] == secret
    me = cli.json("whoami", **anonymous)
    assert (me["email"], me["role"], me["key_from"]) == ("ops@x.io", "operator", str(path))
    assert cli("check", **anonymous).exit_code == 0
    assert cli("logout", **anonymous).exit_code == 0 and not path.exists()
    assert cli("check", **anonymous).exit_code == 4


def test_db_init_creates_the_first_admin_once(cli, empty_db_url: str) -> None:  # noqa: ANN001
    fresh = {"ALEF_DATABASE_URL": empty_db_url, "ALEF_API_KEY": ""}
    first = cli.json("db", "init", "--admin-email", "root@x.io", **fresh)
    admin = first["first_admin"]
    assert admin["email"] == "root@x.io" and admin["api_key"].startswith("alef_")
    saved = json.loads((Path(cli.env["ALEF_HOME"]) / "credentials").read_text())
    assert saved == {"email": "root@x.io", "api_key": admin["api_key"]}
    assert cli.json("whoami", **fresh)["email"] == "root@x.io"  # acts with the saved key
    again = cli.json("db", "init", **fresh)
    assert again["first_admin"] is None and again["applied"] == []
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        from sqlalchemy import text

        admins = conn.execute(text("SELECT count(*) FROM users WHERE role = 'admin'"
                                   " AND NOT is_system")).scalar_one()
    engine.dispose()
    assert admins == 1
    cli("logout", **fresh)
    assert cli("db", "init", **fresh).exit_code == 4  # upgrading a platform needs an identity
