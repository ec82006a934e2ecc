"""`alefctl user`: every command through CliRunner, with its refusals and exit codes."""

from __future__ import annotations

from sqlalchemy import create_engine, text

WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector


def _create(cli, email="ann@x.io", role="investor", *extra):  # noqa: ANN001, ANN201
    return cli("user", "create", "--email", email, "--name", "Ann Lee", "--role", role, *extra)


def test_create_list_show(cli) -> None:  # noqa: ANN001
    created = cli.json("user", "create", "--email", "Ann@X.io", "--name", "Ann Lee",
                       "--wallet", WALLET.lower(), "--country", "ae")
    assert created["email"] == "ann@x.io"
    assert created["wallet_address"] == WALLET  # stored checksummed
    assert created["country"] == "AE" and created["fiat_balance"] == "0.00"
    listed = cli.json("user", "list", "--role", "investor")
    assert [u["email"] for u in listed] == ["ann@x.io"]
    shown = cli.json("user", "show", created["id"])
    assert shown == created
    assert cli.json("user", "show", "ann@x.io")["id"] == created["id"]


def test_list_includes_system_users_and_renders_a_table(cli) -> None:  # noqa: ANN001
    result = cli("user", "list")
    assert result.exit_code == 0
    assert "treasury@system.alefctl" in result.stdout
    assert result.stderr == ""


def test_create_writes_an_audit_row(cli, db_url) -> None:  # noqa: ANN001
    created = cli.json("user", "create", "--email", "a@x.io", "--name", "A")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT a.action, a.source, u.email AS actor FROM audit_logs a"
                                " JOIN users u ON u.id = a.actor_id WHERE a.object_id = :id"),
                           {"id": created["id"]}).one()
    engine.dispose()
    assert (row.action, row.source, row.actor) == ("user.create", "cli", "admin@localhost")


def test_unknown_user_is_exit_3(cli) -> None:  # noqa: ANN001
    result = cli("user", "show", "nobody@x.io")
    assert result.exit_code == 3
    assert result.stderr.strip() == "error: no user matches 'nobody@x.io'"
    assert result.stdout == ""


def test_malformed_address_is_exit_2(cli) -> None:  # noqa: ANN001
    result = _create(cli, "b@x.io", "investor", "--wallet", "0x1234")
    assert result.exit_code == 2
    assert "wallet_address is not an EVM address" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line, no traceback


def test_wrong_checksum_is_exit_2(cli) -> None:  # noqa: ANN001
    bad = WALLET[:-1] + "e"  # flips the case of the last letter
    result = _create(cli, "b@x.io", "investor", "--wallet", bad)
    assert result.exit_code == 2 and "checksum" in result.stderr


def test_bad_role_and_email(cli) -> None:  # noqa: ANN001
    assert _create(cli, "c@x.io", "wizard").exit_code == 2
    assert _create(cli, "not-an-email").exit_code == 2


def test_duplicates_are_conflicts(cli) -> None:  # noqa: ANN001
    assert _create(cli, "d@x.io", "investor", "--wallet", WALLET).exit_code == 0
    again = _create(cli, "D@x.io")
    assert again.exit_code == 5 and "already exists" in again.stderr
    same_wallet = _create(cli, "e@x.io", "investor", "--wallet", WALLET)
    assert same_wallet.exit_code == 5 and "belongs to another user" in same_wallet.stderr


def test_only_admins_create_users(cli) -> None:  # noqa: ANN001
    assert _create(cli, "inv@x.io").exit_code == 0
    result = cli.as_user("inv@x.io")("user", "create", "--email", "z@x.io", "--name", "Z")
    assert result.exit_code == 4
    assert "needs role admin" in result.stderr


def test_a_command_needs_a_valid_key(cli) -> None:  # noqa: ANN001
    for key in ("alef_nope", ""):
        result = cli("user", "list", ALEF_API_KEY=key)
        assert result.exit_code == 4, result.stderr
        assert "alefctl login" in result.stderr and result.stdout == ""


def test_activate_deactivate(cli) -> None:  # noqa: ANN001
    assert _create(cli, "f@x.io").exit_code == 0
    refused = cli("user", "deactivate", "f@x.io")  # no terminal in tests: needs --yes
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    off = cli.json("user", "deactivate", "f@x.io", "--yes")
    assert off["is_activated"] is False and off["changed"] is True
    again = cli.json("user", "deactivate", "f@x.io", "--yes")
    assert again["changed"] is False  # already done is success
    blocked = cli.as_user("f@x.io")("user", "list")
    assert blocked.exit_code == 4 and "deactivated" in blocked.stderr
    on = cli.json("user", "activate", "f@x.io")
    assert on["is_activated"] is True


def test_system_users_cannot_be_deactivated(cli) -> None:  # noqa: ANN001
    result = cli("user", "deactivate", "treasury@system.alefctl", "--yes")
    assert result.exit_code == 5
