"""README's command lines work as written, and the docs never point outside the repository.

Every `alefctl ...` line of README and docs/*.md (```bash blocks, inline snippets, `group verb`
snippets and README's Commands table) is walked through the real command tree: each word must
be a command of the group before it and each option must belong to the command it follows (a
root option such as `--as` written after a subcommand fails). Each line then runs with `--help`
appended through CliRunner and must exit 0; the harmless, fast ones (HARMLESS) also run for
real against a test database. Other lines (pip, pytest, bench and CI commands) are checked as
far as they can be without running them: the extra, files and pytest options exist, the bench
scripts answer --help. ALEF_* variables must be settings or read somewhere, and links must
stay inside the repository.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from alefctl.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted([README, *(ROOT / "docs").glob("*.md")])
ALEFCTL_PREFIXES = ("alefctl ", ".venv/bin/alefctl ")
# Lines that change nothing, or only what a test database may lose, and finish in seconds.
HARMLESS = {
    ("--help",), ("config", "show"), ("db", "init"), ("db", "status"), ("db", "stop"),
    ("user", "list", "--json"), ("check",), ("reconcile",), ("token", "mature-due"),
    ("settlement", "run", "--once"),
}
TREE = typer.main.get_command(app)


def readme() -> str:
    """README.md as text."""
    return README.read_text()


def all_docs() -> str:
    """README.md and docs/*.md as one text."""
    return "\n".join(doc.read_text() for doc in DOCS)


def bash_lines(text: str) -> list[str]:
    """The commands of the ```bash blocks (`a && b` is two commands)."""
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M)
    return [part.strip() for block in blocks for line in block.splitlines() if line.strip()
            for part in line.split("&&")]


def inline_snippets(text: str) -> list[str]:
    """Everything between single backticks outside the code blocks."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return [snippet.strip() for snippet in re.findall(r"`([^`\n]+)`", prose)]


def table_commands(text: str) -> list[tuple[str, ...]]:
    """`alefctl <group> <verb> [options]` from each row of the Commands table; an option
    written after a verb (`run` (`--once` for cron)) belongs to that verb."""
    if "## Commands" not in text:
        return []
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    lines: list[list[str]] = []
    for group, cell in re.findall(r"^\| `([a-z-]+)` \| (.*) \|$", section, flags=re.M):
        current = [group]
        lines.append(current)
        for token in re.findall(r"`([^`]+)`", cell):
            if token.startswith("alefctl "):
                continue  # a full line: checked with the inline snippets
            if token.startswith("--"):
                current.extend(token.split())
                continue
            if " / " in token:  # `api-key create / revoke / list`
                first, *more = token.split(" / ")
                *prefix, verb = first.split()
                for each in (verb, *more):
                    current = [group, *prefix, each.strip()]
                    lines.append(current)
                continue
            words = token.split()
            current = words if len(words) > 1 and words[0] in TREE.commands else [group, *words]
            lines.append(current)
    return [tuple(line) for line in lines]


def alefctl_lines(texts: list[str]) -> list[tuple[str, ...]]:
    """Every alefctl command line the texts show, as argv after `alefctl`, without duplicates."""
    found: list[tuple[str, ...]] = []
    for line in [line for text in texts for line in (*bash_lines(text), *inline_snippets(text))]:
        if line.startswith(ALEFCTL_PREFIXES) and "<" not in line and "..." not in line:
            found.append(tuple(shlex.split(line)[1:]))
        else:
            words = line.split()
            group = TREE.commands.get(words[0]) if len(words) > 1 else None
            if group is not None and hasattr(group, "commands") and words[1] in group.commands:
                found.append(tuple(words))  # `order cancel`, `token delist`
    for text in texts:
        found.extend(table_commands(text))
    return list(dict.fromkeys(found))


def walk(argv: tuple[str, ...]) -> list[str]:
    """Follow argv through the command tree; the problems found (empty when the line is valid)."""
    command: Any = TREE
    path = ["alefctl"]
    problems = []
    index = 0
    while index < len(argv):
        word = argv[index]
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            option = next((p for p in command.params
                           if name in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))),
                          None)
            if option is None and name != "--help":
                problems.append(f"{name} is not an option of `{' '.join(path)}`")
            elif option is not None and not option.is_flag and "=" not in word:
                index += 1  # its value
        elif hasattr(command, "commands"):
            if word not in command.commands:
                problems.append(f"`{' '.join(path)}` has no command {word!r}")
                break
            command = command.commands[word]
            path.append(word)
        index += 1
    if hasattr(command, "commands") and len(path) == 1 and argv and argv != ("--help",):
        problems.append("no command given")
    return problems


LINES = alefctl_lines([doc.read_text() for doc in DOCS])


def test_the_extraction_finds_the_readme_lines() -> None:
    groups = {line[0] for line in table_commands(readme())}
    assert groups >= {"db", "user", "kyc", "token", "settlement", "console", "demo"}
    assert ("user", "api-key", "revoke") in LINES and ("token", "trading-mode") in LINES
    assert ("chain", "work", "--once") in LINES and ("order", "cancel") in LINES
    assert len(HARMLESS & set(LINES)) >= 5


@pytest.mark.parametrize("argv", LINES, ids=lambda argv: " ".join(argv) or "alefctl")
def test_readme_line_is_a_valid_command(argv: tuple[str, ...], tmp_path: Path) -> None:
    problems = walk(argv)
    assert not problems, "; ".join(problems)
    result = CliRunner().invoke(app, [*argv, "--help"], env={
        "ALEF_HOME": str(tmp_path), "ALEF_CONFIG": "", "ALEF_API_KEY": ""})
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout


@pytest.mark.parametrize("argv", sorted(HARMLESS & set(LINES)), ids=" ".join)
def test_harmless_readme_line_runs(argv: tuple[str, ...], cli) -> None:  # noqa: ANN001
    result = cli(*argv)
    assert result.exit_code == 0, result.output


def test_readme_options_exist() -> None:
    """Every `--option` the docs name on their own is an option of some command (or of pytest)."""
    options = {s.split()[0] for s in inline_snippets(all_docs()) if s.startswith("--")}
    known = set()
    pending = [TREE]
    while pending:
        command = pending.pop()
        known.update(o for p in command.params for o in getattr(p, "opts", ()))
        pending.extend(getattr(command, "commands", {}).values())
    known.add("--help")
    pytest_options = set(re.findall(r"addoption\(\"(--[a-z-]+)\"", "".join(
        path.read_text() for path in (ROOT / "tests").rglob("conftest.py"))))
    assert options - known - pytest_options == set()


def test_readme_other_command_lines() -> None:
    """pip, pytest, bench and CI lines: their files, extras and options exist."""
    text = readme()
    lines = [*bash_lines(text), *(s for s in inline_snippets(text)
                                  if s.startswith(("python ", ".venv/bin/python ", "bash ")))]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    conftests = "".join(p.read_text() for p in (ROOT / "tests").rglob("conftest.py"))
    checked = 0
    for line in lines:
        words = shlex.split(line)
        # `python` is whatever is first on PATH, not the environment the README installs into.
        assert words[0] != "python", f"{line}: run it with .venv/bin/python"
        if words[:2] == [".venv/bin/pip", "install"]:
            extra = re.search(r"\[(\w+)\]", line)
            assert extra is None or extra.group(1) in extras, line
        elif words[:3] == [".venv/bin/python", "-m", "pytest"]:
            for word in words[3:]:
                assert (ROOT / word).exists() if not word.startswith("-") else \
                    f'addoption("{word}"' in conftests, line
        elif words[0] == ".venv/bin/python":
            out = subprocess.run([sys.executable, *words[1:], "--help"], cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, f"{line}: {out.stderr}"
        elif words[0] == "bash":
            assert (ROOT / words[1]).is_file(), line
        else:
            continue
        checked += 1
    assert checked >= 8  # the pip and pytest lines, five benches, CI


def test_readme_variables_exist() -> None:
    """Each ALEF_* variable the docs name is a setting, or read by the code or the tests."""
    from alefctl.settings import ENV_PREFIX, Settings

    settings_names = set()
    pending: list[tuple[str, Any]] = [("", Settings)]
    while pending:
        prefix, model = pending.pop()
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                pending.append((f"{prefix}{name}_", annotation))
            else:
                settings_names.add(ENV_PREFIX + f"{prefix}{name}".upper())
    sources = "".join(p.read_text() for folder in ("alefctl", "tests") for p in
                      (ROOT / folder).rglob("*.py") if p.name != Path(__file__).name)
    named = set(re.findall(r"\bALEF_[A-Z_]*[A-Z]\b", all_docs()))
    unknown = {name for name in named - settings_names if f'"{name}"' not in sources}
    assert unknown == set()


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_docs_stay_inside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    assert "../" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):  # links and images
        if "://" not in target:
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), target
