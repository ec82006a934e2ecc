"""Overview counts (each opens its queue), the market ladder, the audit filter, help and palette."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Sparkline
from tui_builders import busy_platform, place
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.approvals import ApprovalsScreen
from alefctl.tui.market import MarketScreen
from alefctl.tui.mints import MintsScreen
from alefctl.tui.modals import TextViewModal
from alefctl.tui.overview import TILES
from alefctl.tui.widgets import CountTile

pytestmark = pytest.mark.asyncio
EXPECTED_COUNTS = {"kyc": 1, "businesses": 1, "payments": 1, "mints": 1, "settlements": 1,
                   "failed_settlements": 1,
                   "dividends": 1, "alerts": 1, "breakers": 1, "approvals": 2,
                   "unread": 7}  # the admin's notifications of all the above


@pytest.fixture
def busy(platform, chain_client):  # noqa: ANN001, ANN201
    busy_platform(platform, chain_client)
    return platform


async def test_overview_counts_open_their_queues(busy, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("admin@x.io"))
    async with app.run_test(size=SIZE) as pilot:
        tiles = {field: app.screen.query_one(f"#tile-{field}", CountTile) for field, _, _ in TILES}
        await until(pilot, lambda: all(t.count is not None for t in tiles.values()))
        assert {field: tile.count for field, tile in tiles.items()} == EXPECTED_COUNTS
        tiles["approvals"].focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen)
                    and app.screen.query_one("#approvals-table", DataTable).row_count == 2)
        await pilot.press("1")
        tiles["mints"].focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MintsScreen)
                    and app.screen.query_one("#mints-table", DataTable).row_count == 1)
        await pilot.press("1")
        await until(pilot, lambda: tiles["kyc"].count == 1)


async def test_market_ladder_trades_and_live_update(busy, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("admin@x.io"))
    async with app.run_test(size=SIZE) as pilot:
        app.open_market("DATE")
        await until(pilot, lambda: isinstance(app.screen, MarketScreen))
        ladder = app.screen.query_one("#ladder", DataTable)
        trades = app.screen.query_one("#trades", DataTable)
        await until(pilot, lambda: ladder.row_count == 6 and trades.row_count == 4)
        assert [row[2:4] for row in rows(ladder)[:3]] == [["10.40", "12"], ["10.20", "12"],
                                                          ["10.10", "3"]]  # asks, best last
        assert [row[:3] for row in rows(ladder)[3:]] == [["1", "12", "9.90"], ["1", "12", "9.80"],
                                                         ["1", "12", "9.50"]]
        assert [row[1] for row in rows(trades)] == ["10.00", "10.10", "10.10", "10.10"]
        assert app.screen.query_one("#price-chart", Sparkline).data == [10.1, 10.1, 10.1, 10.0]
        assert app.screen.query_one("#orders", DataTable).row_count == 6
        place(busy, "omar", "DATE", "buy", 5, "10.40")  # as `alefctl serve` would commit it
        await until(pilot, lambda: trades.row_count == 6 and ladder.row_count == 5)
        assert rows(ladder)[1][2:4] == ["10.20", "10"]


async def test_audit_filter_help_and_palette(busy, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("admin@x.io"), start="audit")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#audit-table", DataTable)
        await until(pilot, lambda: table.row_count > 10)
        app.screen.query_one("#filter-action", Input).value = "kyc.submit"
        await until(pilot, lambda: {row[3] for row in rows(table)} == {"kyc.submit"})
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextViewModal))
        await pilot.press("escape", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, TextViewModal)
                    and "command palette" in app.screen.body)
        await pilot.press("escape")
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Go to Settlement" in commands and "Go to Market" in commands
