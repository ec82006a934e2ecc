"""The optional compiled build (python -m engine.build): current if present, pure Python passes too.

When the mypyc-compiled modules are built (as in CI), the rest of this directory tests them; the
last test here runs the behavioural tests again on a copy of the package holding only the .py
files, so both engines are tested in one run. No timings are asserted.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import engine.book
from engine import build

HERE = Path(__file__).resolve().parent
COMPILED = not engine.book.__file__.endswith(".py")
BEHAVIOUR = ["test_engine_orders.py", "test_engine_properties.py", "test_engine_snapshot.py",
             "test_engine_stops_cancels.py", "test_engine_replay.py", "test_engine_purity.py"]


def test_status_names_the_engine_in_use():
    assert build.status().startswith("compiled (mypyc)" if COMPILED else "pure Python")


@pytest.mark.skipif(not COMPILED, reason="the compiled build is not present")
def test_compiled_modules_are_built_from_the_current_sources():
    assert build.status() == "compiled (mypyc)", "stale build: run python -m engine.build"
    assert all(not module.__file__.endswith(".py")
               for module in (engine.book, engine.matching, engine.stops))


@pytest.mark.skipif(not COMPILED, reason="the pure-Python engine is the one under test already")
def test_pure_python_engine_passes_the_behavioural_tests(tmp_path):
    shutil.copytree(build.ENGINE_DIR, tmp_path / "engine", ignore=shutil.ignore_patterns(
        "*.so", "*.pyd", "__pycache__", ".native-build"))
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    probe = subprocess.run([sys.executable, "-c", "import engine.book; print(engine.book.__file__)"],
                           cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert probe.stdout.strip() == str(tmp_path / "engine" / "book.py"), probe.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         *(str(HERE / name) for name in BEHAVIOUR)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
