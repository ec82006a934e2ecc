"""Import boundaries of DESIGN.md section 1, checked on the source."""

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
