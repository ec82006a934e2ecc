"""An unexpected (non-database) error in a command: one masked line on stderr and exit 1, never a
raw traceback; the masked traceback goes to ALEF_HOME/logs/errors.log, and to stderr with
ALEF_DEBUG=1. The injected failure carries an API key, an RPC URL with credentials, an e-mail
and a document number."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

import alefctl.workflows.wallet as wallet

API_KEY = "alef_" + secrets.token_urlsafe(32)[:43]
PROVIDER_KEY = secrets.token_urlsafe(24)
PASSWORD = "pw-" + secrets.token_hex(6)
RPC = f"https://ops:{PASSWORD}@eth.example.net/v2/{PROVIDER_KEY}"
SECRETS = (API_KEY[13:], PROVIDER_KEY, PASSWORD, "johanna.q@example.com", "X98765432")


def _explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(f"node {RPC} refused key {API_KEY} for johanna.q@example.com"
                       " (passport X98765432)\nsecond line")


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wallet, "show_wallet", _explode)


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_one_masked_line_and_exit_1(cli, failing) -> None:  # noqa: ANN001
    result = cli("wallet", "show", "--user", "admin@localhost")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (result.stderr, result.exception)
    assert lines[0].startswith("error: unexpected RuntimeError: node https://***@eth.example.net")
    assert "alef_" in lines[0] and "ALEF_DEBUG=1" in lines[0]
    assert "Traceback" not in result.output and _leaks(result.output) == []
    log = Path(cli.env["ALEF_HOME"]) / "logs" / "errors.log"
    assert str(log) in lines[0]
    written = log.read_text()
    assert "Traceback" in written and "_explode" in written and "wallet show" in written
    assert _leaks(written) == []
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_debug_prints_the_masked_traceback(cli, failing) -> None:  # noqa: ANN001
    result = cli("wallet", "show", "--user", "admin@localhost", ALEF_DEBUG="1")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "RuntimeError" in result.stderr
    assert "second line" in result.stderr
    assert _leaks(result.output) == []


def test_an_unwritable_log_still_gives_one_line(cli, failing, tmp_path) -> None:  # noqa: ANN001
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the data directory should be")
    result = cli("wallet", "show", "--user", "admin@localhost", ALEF_HOME=str(blocked))
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "traceback in" not in result.stderr
    assert _leaks(result.output) == []
