"""Optional compiled build of the engine's core: ``python -m engine.build [--clean | --status]``.

Compiles ``engine/book.py``, ``engine/matching.py`` and ``engine/stops.py`` -- unchanged, the
same typed Python that runs uncompiled -- with mypyc (mypy's compiler) into C extension modules
written next to them (``engine/*.so``, git-ignored). Python's import system prefers an
extension module to a ``.py`` file of the same name, so once they are built every
``import engine`` uses them; without them (never built, ``--clean``, another Python version)
the same modules run as pure Python. Nothing else in the package changes, and the extensions
need only the standard library at run time.

Build requirements: mypy (which ships mypyc), setuptools and a C compiler with the Python
headers. ``.ci/run`` installs mypy and runs this after ``pip install -e``.

The build records a hash of the compiled sources (``engine/.native-build``) so that
``--status``, the benchmark and a test can tell when the sources changed after a build (the
stale extensions would still be imported): rebuild, or ``--clean``.
"""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
COMPILED = ("book", "matching", "stops")  # the modules on the hot path
GROUP = "engine._native"  # mypyc's shared library becomes engine/_native__mypyc.*.so
STAMP = ENGINE_DIR / ".native-build"


def artifacts() -> list[Path]:
    """Extension modules of a previous build, if any."""
    names = {*COMPILED, GROUP.rsplit(".", 1)[1] + "__mypyc"}
    return sorted(path for path in ENGINE_DIR.iterdir()
                  if path.suffix in (".so", ".pyd") and path.name.split(".")[0] in names)


def source_digest() -> str:
    """Hash of the compiled modules' sources, as recorded by a build."""
    digest = hashlib.sha256()
    for name in COMPILED:
        digest.update((ENGINE_DIR / f"{name}.py").read_bytes())
    return digest.hexdigest()


def status() -> str:
    """Which engine the current interpreter imports, in words (printed by the benchmark)."""
    import engine.book

    if engine.book.__file__ is None or engine.book.__file__.endswith(".py"):
        return "pure Python"
    if not STAMP.exists() or STAMP.read_text().strip() != source_digest():
        return ("compiled (mypyc), STALE: the sources changed since the build; run "
                "python -m engine.build (or --clean)")
    return "compiled (mypyc)"


def clean() -> None:
    """Remove the extension modules; the pure-Python modules take over."""
    for path in artifacts():
        path.unlink()  # unlink, never overwrite: this process may have the old one mapped
    STAMP.unlink(missing_ok=True)


def build() -> None:
    """Compile the hot modules in place and check that a fresh interpreter imports them."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    started = time.monotonic()
    clean()
    root = ENGINE_DIR.parent
    previous = os.getcwd()
    os.chdir(root)  # mypy reads its settings from pyproject.toml here
    try:
        with tempfile.TemporaryDirectory() as scratch:
            extensions = mypycify([f"engine/{name}.py" for name in COMPILED], opt_level="3",
                                  group_name=GROUP, target_dir=scratch)
            distribution = Distribution({"name": "engine-native", "ext_modules": extensions,
                                         "script_args": ["--quiet", "build_ext", "--inplace",
                                                         "--build-temp", f"{scratch}/temp",
                                                         "--build-lib", f"{scratch}/lib"]})
            distribution.parse_command_line()
            distribution.run_commands()
    finally:
        os.chdir(previous)
    STAMP.write_text(source_digest() + "\n")
    check = subprocess.run(
        [sys.executable, "-c", "import engine.build; print(engine.build.status())"],
        cwd=root, capture_output=True, text=True)
    if check.returncode or check.stdout.strip() != "compiled (mypyc)":
        clean()
        sys.exit(f"engine build: the compiled modules do not load; removed them.\n"
                 f"{check.stdout}{check.stderr}")
    print(f"engine build: compiled engine.{', engine.'.join(COMPILED)} with mypyc in "
          f"{time.monotonic() - started:.0f} s")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m engine.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--clean", action="store_true", help="remove the compiled modules")
    action.add_argument("--status", action="store_true", help="print which engine is imported")
    args = parser.parse_args(argv)
    if args.clean:
        clean()
        print("engine build: removed; the engine runs as pure Python")
    elif args.status:
        print(status())
    else:
        build()


if __name__ == "__main__":
    main()
