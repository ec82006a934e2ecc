"""Shared bits of the console: the navigation bar, count tiles, table filling, formatting."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

# (mode, key, title) of every top-level screen, in the order of the number keys.
NAVIGATION = (
    ("overview", "1", "Overview"),
    ("kyc", "2", "KYC"),
    ("businesses", "3", "Businesses"),
    ("tokens", "4", "Tokens"),
    ("market", "5", "Market"),
    ("settlement", "6", "Settlement"),
    ("dividends", "7", "Dividends"),
    ("audit", "8", "Audit log"),
    ("mints", "9", "Mints"),
    ("surveillance", "0", "Surveillance"),
)


class NavBar(Static):
    """The screens and their number keys; the current one highlighted, each one clickable."""

    def __init__(self, current: str):
        super().__init__(id="navbar")
        self.current = current

    def render(self) -> str:
        """One line of `key title` entries, of the screens the acting user may see."""
        parts = []
        for mode, key, title in NAVIGATION:
            if not self.app.may_open(mode):  # type: ignore[attr-defined]
                continue
            style = "reverse bold" if mode == self.current else "dim"
            parts.append(f"[@click=app.switch_mode('{mode}')][{style}] {key} {title} [/][/]")
        return " ".join(parts)


class CountTile(Static, can_focus=True):
    """A count of one queue; Enter or a click opens the queue."""

    BINDINGS = [Binding("enter", "open", "Open queue")]

    class Opened(Message):
        """The admin asked to open a tile's queue."""

        def __init__(self, mode: str):
            super().__init__()
            self.mode = mode

    def __init__(self, label: str, mode: str, tile_id: str):
        super().__init__(id=tile_id, classes="tile")
        self.label = label
        self.mode = mode
        self.count: int | None = None

    def show(self, count: int) -> None:
        """Display a new count; a non-zero count is highlighted."""
        self.count = count
        self.set_class(count > 0, "attention")
        self.update(f"[b]{count}[/b]\n{self.label}")

    def on_mount(self) -> None:
        self.update(f"[b]…[/b]\n{self.label}")

    def action_open(self) -> None:
        self.post_message(self.Opened(self.mode))

    def on_click(self) -> None:
        self.post_message(self.Opened(self.mode))


def fill_table(table: DataTable, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
    """Replace the rows of a table (key, cells), keeping the cursor on the same row if it is there."""
    selected = selected_key(table)
    table.clear()
    for key, cells in rows:
        table.add_row(*[cell_text(value) for value in cells], key=key)
    if selected is not None and selected in table.rows:
        table.move_cursor(row=table.get_row_index(selected))


def selected_key(table: DataTable) -> str | None:
    """The key of the row under the cursor, or None for an empty table."""
    if table.row_count == 0:
        return None
    row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
    return row_key.value


def cell_text(value: Any) -> Text | str:
    """How a value appears in a cell."""
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, Text):
        return value
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, uuid.UUID):
        return short_id(value)
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def when(moment: datetime) -> str:
    """A timestamp in UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def short_id(value: uuid.UUID | str) -> str:
    """The last 12 hex digits of a UUID v7 (the first ones are the time, shared by neighbours)."""
    return str(value)[-12:]


def status_text(status: str) -> Text:
    """A status word coloured by what it asks of the admin."""
    colour = {"failed": "red", "rejected": "red", "pending": "yellow", "in_review": "yellow",
              "pending_payment": "yellow", "pending_approval": "yellow", "processing": "cyan",
              "distributing": "cyan", "paused": "yellow", "delisted": "red"}.get(status, "green")
    return Text(status, style=colour)
