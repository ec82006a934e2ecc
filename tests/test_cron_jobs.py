"""Cron that tells the truth: a failed settlement or mint fails `settlement run`, `chain work`,
`check` and `reconcile` (naming it), every job command is silent with --quiet when all is well,
and no command but `db init` and `demo` creates a database in an empty home."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from platform_builders import wallet_for
from settlement_helpers import link_chain, minted_token, trade
from test_minting import confirmed  # noqa: F401 - a fixture

from alefctl.cli import app
from alefctl.workflows.dashboard import attention

# The commands cron runs (README, "Ops jobs for cron"), as run there.
JOBS = (("check",), ("reconcile",), ("settlement", "run", "--once"), ("chain", "work", "--once"),
        ("token", "mature-due"), ("audit", "verify"), ("worker", "--once"))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _command(path: tuple[str, ...]):  # noqa: ANN202 - a click command
    command = typer.main.get_command(app)
    for word in path:
        if word.startswith("-"):
            break
        command = command.commands[word]  # type: ignore[attr-defined]
    return command


@pytest.mark.parametrize("job", JOBS, ids=" ".join)
def test_every_job_command_has_quiet(job: tuple[str, ...]) -> None:
    options = {opt for param in _command(job).params for opt in getattr(param, "opts", ())}
    assert {"--quiet", "-q"} <= options


def test_jobs_are_silent_with_quiet_when_all_is_well(cli, platform, chain_client, tmp_path) -> None:  # noqa: ANN001
    minted_token(platform, chain_client, "CALM", {"alice": 10})
    link_chain(tmp_path / "home", chain_client)
    for job in JOBS:
        result = cli(*job, "--quiet")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", ""), job


def test_a_failed_settlement_is_reported_by_every_job(cli, platform, chain_client, tmp_path) -> None:  # noqa: ANN001
    token = minted_token(platform, chain_client, "SET", {"alice": 100, "bob": 50}, ("carol",))
    link_chain(tmp_path / "home", chain_client)
    chain_client.freeze_partial_tokens(token.contract_address, wallet_for("alice"), 95 * 10**18)
    blocked = trade(platform, "alice", "carol", "SET", 10)

    first = cli("settlement", "run", "--once", "--quiet")
    assert first.exit_code == 1 and first.stdout == ""
    [line] = _lines(first.stderr)
    assert blocked in line and "will be retried" in line and "does not cover 10" in line
    as_json = cli("settlement", "run", "--once", "--json")
    assert as_json.exit_code == 1
    assert [f["trade_id"] for f in json.loads(as_json.stdout)["failures"]] == [blocked]
    for _ in range(2):
        cli("settlement", "run", "--once")
    last = cli("settlement", "run", "--once")  # the fifth attempt: the trade is failed now
    assert last.exit_code == 1 and "no attempts left" in last.stderr and blocked in last.stderr
    idle = cli("settlement", "run", "--once", "--quiet")  # nothing left to run: nothing to say
    assert (idle.exit_code, idle.stdout, idle.stderr) == (0, "", "")

    human = cli("check")
    assert human.exit_code == 1
    assert "no_failed_settlements" in human.stdout and blocked in human.stdout
    quiet = cli("check", "--quiet")
    assert quiet.exit_code == 1 and quiet.stdout == ""
    [line] = _lines(quiet.stderr)
    assert line.startswith("check no_failed_settlements: ") and blocked in line and "SET" in line

    reconciled = cli("reconcile", "--json")
    assert reconciled.exit_code == 1
    [set_token] = json.loads(reconciled.stdout)["tokens"]
    assert set_token["breaks"] == [] and set_token["in_flight"] == []
    failed = {f["email"]: f["items"] for f in set_token["failed"]}
    assert failed == {"alice@x.io": [{"kind": "sale", "status": "failed", "items": 1, "delta": 10}],
                      "carol@x.io": [{"kind": "purchase", "status": "failed", "items": 1,
                                      "delta": -10}]}
    table = cli("reconcile")
    assert table.exit_code == 1 and "in flight (explained)" not in table.stdout
    assert "FAILED" in table.stdout and "1 sale failed (+10)" in table.stdout
    lines = _lines(cli("reconcile", "--quiet").stderr)
    assert len(lines) == 2 and all("has failed" in line for line in lines)

    with platform.engine.connect() as conn:
        counts = attention(conn)
    assert (counts.failed_settlements, counts.settlements) == (1, 1)

    chain_client.unfreeze_partial_tokens(token.contract_address, wallet_for("alice"), 95 * 10**18)
    assert cli.json("settlement", "retry", "--all-failed")["retried"] == [blocked]
    for job in (("settlement", "run", "--once"), ("check",), ("reconcile",)):
        result = cli(*job, "--quiet")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", ""), job


def test_a_failed_mint_fails_chain_work_and_check(cli, platform, chain_client, confirmed,  # noqa: ANN001, F811
                                                  tmp_path) -> None:
    link_chain(tmp_path / "home", chain_client)
    chain_client.set_max_balance(confirmed.contract_address, 25 * 10**18)  # alice's 30 is refused
    work = cli("chain", "work", "--once", "--quiet")
    assert work.exit_code == 1 and work.stdout == ""
    [line] = _lines(work.stderr)
    assert line.startswith("mint of token_allocation ") and "failed" in line
    quiet = cli("check", "--quiet")
    assert quiet.exit_code == 1
    [line] = _lines(quiet.stderr)
    assert line.startswith("check no_failed_mints: ") and "alice@x.io" in line
    again = cli("chain", "work", "--once", "--quiet")  # the failed job is not run again
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "")


def test_quiet_still_reports_errors(cli) -> None:  # noqa: ANN001
    refused = cli("check", "--quiet", ALEF_API_KEY="alef_wrong")
    assert refused.exit_code == 4 and refused.stdout == "" and len(_lines(refused.stderr)) == 1


def _bare(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """alefctl as cron runs it: HOME and PATH only (no ALEF_HOME, no key)."""
    return subprocess.run([sys.executable, "-m", "alefctl", *args], capture_output=True, text=True,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, timeout=180)


def test_an_empty_home_has_no_database_until_db_init(tmp_path: Path) -> None:
    data_dir = tmp_path / ".local" / "share" / "alefctl"
    for args in (("check",), ("check", "--quiet"), ("db", "status"), ("user", "list")):
        result = _bare(tmp_path, *args)
        assert result.returncode == 6, (args, result.stderr)
        [line] = _lines(result.stderr)
        assert str(data_dir) in line and "alefctl db init" in line and result.stdout == ""
    assert not (data_dir / "pgdata").exists()
    try:
        created = _bare(tmp_path, "db", "init")
        assert created.returncode == 0, created.stderr
        assert "first admin admin@localhost" in created.stdout
        assert (data_dir / "credentials").is_file()
        clean = _bare(tmp_path, "check", "--quiet")
        assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")
    finally:
        _bare(tmp_path, "db", "stop")
