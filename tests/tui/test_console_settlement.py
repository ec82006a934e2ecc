"""Settlement in the console: a failed trade is shown with its error and retried."""

from __future__ import annotations

import pytest
from platform_builders import live_token
from sqlalchemy import text
from textual.widgets import DataTable
from tui_builders import failed_trade
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import ConfirmModal
from alefctl.tui.settlement import SettlementScreen

pytestmark = pytest.mark.asyncio


async def test_retry_a_failed_settlement(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    live_token(platform, chain_client, holders={"amira": 100, "omar": 100})
    trade_id = failed_trade(platform)
    app = AlefConsole(console_as("admin@x.io"), start="settlement")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#settlement-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        shown = rows(table)[0]
        assert shown[6] == "failed" and shown[7] == "5"
        assert "does not cover 10" in shown[-1]
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SettlementScreen)
                    and rows(table) and rows(table)[0][6] == "pending")
    with engine.begin() as conn:
        status, attempts = conn.execute(text("SELECT settlement_status, settlement_attempts"
                                             " FROM trades WHERE id = :id"), {"id": trade_id}).one()
        audited = conn.execute(text("SELECT source FROM audit_logs WHERE action ="
                                    " 'trade.retry_settlement' AND object_id = :id"),
                               {"id": trade_id}).scalars().all()
    assert (status, attempts) == ("pending", 0)
    assert audited == ["console"]


async def test_a_reviewer_may_not_see_settlement(platform, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("reviewer@x.io"), start="settlement")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actor is not None and app.current_mode == "overview")
        await pilot.press("6")  # Settlement's key: not a reviewer's screen
        await pilot.pause(4.5)  # two polls' time: nothing refused, nothing notified
        assert app.current_mode == "overview"
        assert [n.message for n in app._notifications] == []
