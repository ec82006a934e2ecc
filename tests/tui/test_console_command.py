"""`alefctl console`: refuses politely without a terminal; --help loads no Textual."""

from __future__ import annotations

import subprocess
import sys


def test_console_refuses_without_a_terminal(cli) -> None:  # noqa: ANN001
    result = cli("console")
    assert result.exit_code == 2
    assert "needs an interactive terminal" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_help_loads_no_textual() -> None:
    probe = ("import sys\nfrom typer.testing import CliRunner\nfrom alefctl.cli import app\n"
             "result = CliRunner().invoke(app, ['console', '--help'])\n"
             "assert result.exit_code == 0, result.output\n"
             "assert 'dashboard' in result.output\n"
             "print('textual' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"
