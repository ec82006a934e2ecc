"""Text snapshots of console screens, compared with the files in tests/tui/snapshots/.

capture: the screen exactly as App.export_screenshot renders it (the compositor's full update),
as plain text, one line per terminal row, trailing blanks dropped. Colours are not compared;
every character, column and line is.

normalise: what differs from run to run is masked, keeping its width so columns stay aligned.
The data itself is fixed (tui_builders: names, amounts, prices, counts; a fresh EVM per test, so
contract addresses, transaction hashes and gas are the same every run). What is left:
  a UUID (v7: its first digits are the time), also cut short by a column or the screen edge,
  and the 12-digit short id the console shows                      -> x for each digit
  a timestamp (shown, or ISO in JSON) or a date, also cut short   -> YYYY-MM-DD hh:mm:ss...
  a time of day (the market's trades)                              -> hh:mm:ss
The console prints times in UTC, so the machine's timezone does not matter.

Update: `pytest tests/tui --snapshot-update` (or ALEF_SNAPSHOT_UPDATE=1) rewrites the files.
Otherwise a difference fails with a unified diff. A missing file is written and warned about,
except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import os
import re
import warnings
from pathlib import Path

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
_HEX = "[0-9a-f]"
_CUT = r"(?=…|$)"  # where a column (…) or the screen's right edge cut a value short
_TIME = "YYYY-MM-DD hh:mm:ss.ffffff+hh:mm"
MASKS = (  # (pattern, replacement) in this order; every replacement keeps the width
    (re.compile(rf"\b{_HEX}{{8}}(?:-{_HEX}{{0,12}}){{1,4}}|(?<![\w-]){_HEX}{{12}}(?![\w-])"
                rf"|(?<=\")(?={_HEX}*\d){_HEX}{{1,8}}{_CUT}", re.MULTILINE),
     lambda m: re.sub(_HEX, "x", m[0])),
    (re.compile(r"\b\d{4}-\d\d?(?:-\d\d?(?:[T ]\d\d?(?::\d\d?(?::\d\d?(?:\.\d+)?"
                r"(?:[+-]\d\d?(?::\d\d?)?)?)?)?)?)?"),  # a timestamp or date, or its start
     lambda m: "".join(_TIME[i] if c.isdigit() and i < len(_TIME) else c
                       for i, c in enumerate(m[0]))),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}\b"), "hh:mm:ss"),
)


def capture(app: App) -> str:
    """The current screen as text (what an SVG screenshot shows, without colours)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens, simplify=True))
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def normalise(text: str) -> str:
    """Mask ids and times (see the module docstring)."""
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def update_requested(config: pytest.Config) -> bool:
    """--snapshot-update or ALEF_SNAPSHOT_UPDATE=1."""
    return bool(config.getoption("snapshot_update", False)) or _flag("ALEF_SNAPSHOT_UPDATE")


def compare(name: str, actual: str, update: bool) -> None:
    """Compare with snapshots/NAME.txt: rewrite it when updating, else fail with a diff."""
    path = SNAPSHOT_DIR / f"{name}.txt"
    if update or not path.exists():
        if not update and _flag("CI"):
            raise AssertionError(f"no snapshot {path}: run `pytest tests/tui --snapshot-update`"
                                 " and commit the file")
        if not update:
            warnings.warn(f"snapshot {path.name} created: review and commit it", stacklevel=3)
        if not path.exists() or path.read_text(encoding="utf-8") != actual:
            SNAPSHOT_DIR.mkdir(exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                    f"snapshots/{name}.txt", "screen now", lineterm="")
        raise AssertionError(f"screen {name} differs from its snapshot (update with"
                             " `pytest tests/tui --snapshot-update`):\n" + "\n".join(diff))


async def settled_text(pilot: Pilot, attempts: int = 40) -> str:
    """The normalised screen once it has stopped changing (two captures in a row agree).

    A DataTable measures its columns when idle, after it may already have drawn new rows at the
    old widths, and keeps those lines cached (Textual 8.2.8; see Textualize/textual#3533): once
    every table has measured, its cached lines are dropped so the capture shows the final widths.
    """
    previous = None
    for _ in range(attempts):
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        tables = list(pilot.app.screen.query(DataTable))
        if any(t._require_update_dimensions or t._updated_cells for t in tables):
            await asyncio.sleep(0.1)
            continue
        for table in tables:
            table.notify_style_update()  # clears its render caches and repaints
        await pilot.pause()
        text = normalise(capture(pilot.app))
        if text == previous:
            return text
        previous = text
        await asyncio.sleep(0.1)
    raise AssertionError(f"the screen kept changing; last seen:\n{previous}")


async def assert_snapshot(pilot: Pilot, name: str, config: pytest.Config) -> None:
    """Compare the settled screen with snapshots/NAME.txt."""
    compare(name, await settled_text(pilot), update_requested(config))


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")
