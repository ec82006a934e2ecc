"""The engine stays pure: no I/O, clock, randomness or concurrency outside its tools."""

import ast
from pathlib import Path

import engine

ENGINE_DIR = Path(engine.__file__).parent
TOOLS = {"bench.py", "benchstream.py", "build.py", "replay.py"}  # command-line tools, not the engine
IMPURE = {"time", "datetime", "os", "io", "sys", "socket", "random", "threading", "asyncio",
          "subprocess", "pathlib", "logging", "sqlalchemy", "alefctl", "chain"}


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_modules_import_nothing_impure():
    core = [path for path in ENGINE_DIR.glob("*.py") if path.name not in TOOLS]
    assert len(core) >= 8
    breaches = {path.name: sorted(top_level_imports(path) & IMPURE) for path in core}
    assert {name: found for name, found in breaches.items() if found} == {}


def test_engine_never_calls_open_or_print():
    core = [path for path in ENGINE_DIR.glob("*.py") if path.name not in TOOLS]
    calls = {
        (path.name, node.func.id)
        for path in core
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id in ("open", "print", "input")
    }
    assert calls == set()
