"""README's table of the console's keys lists every key of every screen, and no other."""

from __future__ import annotations

from pathlib import Path

from alefctl.tui.app import SCREENS_BY_MODE, UNNUMBERED
from alefctl.tui.holders import HoldersScreen
from alefctl.tui.kyc import KycReviewScreen
from alefctl.tui.token_detail import TokenDetailScreen
from alefctl.tui.widgets import NAVIGATION

README = Path(__file__).resolve().parents[2] / "README.md"
TABLE_HEADING = "### Console keys"
# Rows written by hand: keys of the app and of widgets, not of one screen's bindings.
HAND_WRITTEN = ("Everywhere", "Overview")


def screens() -> list[tuple[str, type]]:
    """Every screen by the title the console shows for it."""
    titles = {mode: title for mode, _key, title in NAVIGATION}
    titles |= {mode: title for mode, title, _about in UNNUMBERED}
    return [*((titles[mode], screen) for mode, screen in SCREENS_BY_MODE.items()),
            ("Token detail", TokenDetailScreen), ("Holders", HoldersScreen),
            ("KYC review", KycReviewScreen)]


def screen_keys(screen: type) -> str:
    """The keys a screen's footer and help list (reload is everywhere), as the table writes them."""
    shown = [(key, binding.description)
             for key, bindings in screen._merged_bindings.key_to_bindings.items()
             for binding in bindings if binding.show and binding.description and key != "ctrl+r"]
    return ", ".join(f"`{key}` {description}" for key, description in shown)


def documented() -> dict[str, str]:
    """The table under the heading: screen -> keys."""
    text = README.read_text().split(TABLE_HEADING, 1)[1]
    rows = {}
    for line in text.splitlines()[1:]:
        if rows and not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1]
    return rows


def test_readme_lists_every_console_key() -> None:
    table = documented()
    expected = {title: screen_keys(screen) for title, screen in screens() if screen_keys(screen)}
    assert {title: keys for title, keys in table.items()
            if title not in (*HAND_WRITTEN, "screen")} == expected
    assert "`ctrl+r`" in table["Everywhere"]
