"""Command conventions: fast help with no heavy imports, version, JSON shapes, config sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alefctl.db.schema import latest_version

LATEST = latest_version()

HEAVY_MODULES = ("web3", "fastapi", "textual", "uvicorn", "eth_tester", "sqlalchemy", "pgserver")


def test_help_imports_no_heavy_module() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from alefctl.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_group_has_help(cli) -> None:  # noqa: ANN001
    for group in ("db", "config", "user", "wallet", "user api-key"):
        result = cli(*group.split(), "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout


def test_version(cli) -> None:  # noqa: ANN001
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("alefctl ")


def test_unknown_command_is_a_usage_error(cli) -> None:  # noqa: ANN001
    assert cli("frobnicate").exit_code == 2
    assert cli("user", "create").exit_code == 2  # missing required options


def test_db_status_and_init_json(cli) -> None:  # noqa: ANN001
    status = cli.json("db", "status")
    assert status["schema_version"] == LATEST and status["embedded"] is False
    assert status["counts"]["users"] == 3  # the treasury, the system operator, the first admin
    init = cli.json("db", "init")
    assert init == {"version": LATEST, "applied": [], "created_users": [], "first_admin": None}


def test_external_database_without_schema_is_refused(cli, empty_db_url) -> None:  # noqa: ANN001
    result = cli("user", "list", ALEF_DATABASE_URL=empty_db_url)
    assert result.exit_code == 5 and "alefctl db init" in result.stderr
    assert cli.json("db", "init", ALEF_DATABASE_URL=empty_db_url)["version"] == LATEST
    # the first admin's key, saved by db init, is this user's credentials from now on
    assert cli("user", "list", ALEF_DATABASE_URL=empty_db_url, ALEF_API_KEY="").exit_code == 0


def test_unreachable_database_is_exit_6(cli) -> None:  # noqa: ANN001
    result = cli("user", "list", ALEF_DATABASE_URL="postgresql://u@127.0.0.1:9/none")
    assert result.exit_code == 6
    assert result.stderr.startswith("error: database unavailable")


def test_config_show_masks_secrets_and_names_sources(cli, tmp_path: Path) -> None:  # noqa: ANN001
    config = tmp_path / "alef.toml"
    config.write_text('[server]\nport = 9001\n[chain]\nprivate_key = "0xK3YM4T3R14L"\n')
    data = cli.json("--config", str(config), "config", "show",
                    ALEF_TRADING_DEFAULT_FEE_BPS="25")
    rows = {row["name"]: row for row in data["settings"]}
    assert rows["server.port"]["value"] == "9001"
    assert rows["server.port"]["source"].startswith("file ")
    assert rows["chain.private_key"]["value"] == "**********"
    assert "K3YM4T3R14L" not in json.dumps(data)
    assert rows["trading.default_fee_bps"] == {
        "name": "trading.default_fee_bps", "value": "25",
        "source": "env ALEF_TRADING_DEFAULT_FEE_BPS"}
    assert rows["database.url"]["value"] == "**********"
    assert rows["server.host"]["source"] == "default"
    home = cli.json("--home", str(tmp_path), "config", "show")
    assert {r["name"]: r for r in home["settings"]}["home"]["source"] == "flag"


def test_missing_config_file_is_exit_2(cli, tmp_path: Path) -> None:  # noqa: ANN001
    result = cli("--config", str(tmp_path / "nope.toml"), "config", "show")
    assert result.exit_code == 2 and "config file not found" in result.stderr
