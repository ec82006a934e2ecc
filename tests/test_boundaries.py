"""The layers, checked on the source (docs/architecture.md, "Layers").

engine and chain import nothing of alefctl; workflows and db import no front end; the front ends
(commands, tui, server) import workflows and never each other, except the commands that launch
one (`console`, `serve`, `demo`); SQL is written only in workflows and db; money moves and lock
keys each have one home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONT_ENDS = ("alefctl.commands", "alefctl.tui", "alefctl.server", "alefctl.cli", "typer",
              "textual", "fastapi", "uvicorn", "rich")
RULES = {
    "engine": ("alefctl", "chain", "sqlalchemy", "fastapi", "textual", "typer", "web3", "asyncio",
               "psycopg"),
    "chain": ("alefctl", "engine", "sqlalchemy", "fastapi", "textual", "typer"),
    "alefctl/workflows": FRONT_ENDS,
    "alefctl/db": FRONT_ENDS,
}


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, anywhere in the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_respects_its_import_boundary(package: str) -> None:
    forbidden = RULES[package]
    sources = list((ROOT / package).rglob("*.py"))
    breaches = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]
    assert breaches == []


FRONT_END_PACKAGES = ("alefctl.commands", "alefctl.tui", "alefctl.server", "alefctl.demo")
LAUNCHERS = {  # a command that starts another front end
    "alefctl/commands/console.py": ("alefctl.tui",),
    "alefctl/commands/serve.py": ("alefctl.server",),
    "alefctl/commands/demo.py": ("alefctl.demo",),
    "alefctl/demo/trading.py": ("alefctl.server",),  # the demo runs the server in-process
}


def _package_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parts[:2])


def test_front_ends_never_import_each_other() -> None:
    breaches = []
    for package in FRONT_END_PACKAGES:
        for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
            allowed = LAUNCHERS.get(str(path.relative_to(ROOT)), ())
            for name in imported_modules(path):
                other = next((p for p in FRONT_END_PACKAGES
                              if p != package and (name == p or name.startswith(p + "."))), None)
                if other and other not in allowed:
                    breaches.append(f"{path.relative_to(ROOT)} imports {name}")
    assert breaches == []


def sql_calls(path: Path) -> list[int]:
    """Lines that hand SQL to the database: sqlalchemy text(), exec_driver_sql, or execute() of
    a string written in place."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        literal = node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr)) and (
            not isinstance(node.args[0], ast.Constant) or isinstance(node.args[0].value, str))
        if name in ("text", "exec_driver_sql") or (name == "execute" and literal):
            lines.append(node.lineno)
    return lines


def test_sql_is_written_only_in_workflows_and_db() -> None:
    outside = [path for path in (ROOT / "alefctl").rglob("*.py")
               if _package_of(path) not in ("alefctl.workflows", "alefctl.db")]
    breaches = [f"{path.relative_to(ROOT)}:{line}" for path in outside for line in sql_calls(path)]
    assert breaches == []


def test_the_sql_check_finds_sql() -> None:
    sample = ROOT / "alefctl" / "db" / "probes.py"
    assert len(sql_calls(sample)) == 2


@pytest.mark.parametrize(("pattern", "home"), [
    (r"UPDATE\s+users\b[^;]*\bSET\s+fiat_balance", "alefctl/workflows/money.py"),
    (r"(INSERT\s+INTO|UPDATE)\s+(wallet_transactions|user_balances)\b", "alefctl/workflows/money.py"),
    (r"pg_(try_)?advisory", "alefctl/db/locks.py"),
    # the masking of secrets and personal data, and the log filter that applies it
    (r"Failing row contains|logging\.Filter\b", "alefctl/redact.py"),
])
def test_each_rule_has_one_home(pattern: str, home: str) -> None:
    import re

    found = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "alefctl").rglob("*.py")
                   if re.search(pattern, path.read_text(), re.IGNORECASE | re.DOTALL))
    assert found == [home]
