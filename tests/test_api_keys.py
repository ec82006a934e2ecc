"""API keys: created for a user, shown once, stored hashed, revocable."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from alefctl.errors import PermissionDenied
from alefctl.workflows.api_keys import authenticate


@pytest.fixture
def investor(cli) -> str:  # noqa: ANN001
    assert cli("user", "create", "--email", "k@x.io", "--name", "K").exit_code == 0
    return "k@x.io"


def test_key_is_shown_once_and_stored_hashed(cli, investor, db_url) -> None:  # noqa: ANN001
    created = cli.json("user", "api-key", "create", investor, "--name", "trading bot")
    secret = created["secret"]
    assert secret.startswith("alef_") and created["key_prefix"] == secret[:13]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT k.key_hash FROM api_keys k JOIN users u ON u.id = k.user_id"
                                   " WHERE u.email = :e"), {"e": investor}).scalar_one()
        assert secret not in stored
        actor = authenticate(conn, secret)
        assert actor.email == investor and actor.role == "investor" and actor.source == "api"
    listed = cli.json("user", "api-key", "list", investor)
    assert [k["key_prefix"] for k in listed] == [created["key_prefix"]]
    assert "secret" not in listed[0]
    engine.dispose()


def test_plain_output_prints_the_secret_on_stdout(cli, investor) -> None:  # noqa: ANN001
    result = cli("user", "api-key", "create", investor)
    assert result.exit_code == 0
    assert result.stdout.strip().startswith("alef_")
    assert "not shown again" in result.stderr


def test_revoked_key_no_longer_authenticates(cli, investor, db_url) -> None:  # noqa: ANN001
    created = cli.json("user", "api-key", "create", investor)
    revoked = cli.json("user", "api-key", "revoke", created["key_prefix"], "--yes")
    assert revoked["changed"] is True and revoked["revoked_at"]
    assert cli.json("user", "api-key", "revoke", created["id"], "--yes")["changed"] is False
    engine = create_engine(db_url)
    with engine.begin() as conn, pytest.raises(PermissionDenied):
        authenticate(conn, created["secret"])
    with engine.begin() as conn, pytest.raises(PermissionDenied):
        authenticate(conn, "alef_wrong")
    engine.dispose()


def test_unknown_key_and_foreign_keys(cli, investor) -> None:  # noqa: ANN001
    assert cli("user", "api-key", "revoke", "alef_missing1", "--yes").exit_code == 3
    assert cli("user", "api-key", "revoke", "not-a-uuid", "--yes").exit_code == 2  # no reference
    cli("user", "create", "--email", "other@x.io", "--name", "O")
    result = cli.as_user(investor)("user", "api-key", "create", "other@x.io")
    assert result.exit_code == 4
    own = cli.as_user(investor)("user", "api-key", "create", investor)
    assert own.exit_code == 0
