"""The console's mature and delist keys close the market like every other path: pending OTC
orders cancelled and their funds back (workflows/closing.py)."""

from __future__ import annotations

import pytest
from market_close_helpers import free_funds, otc_statuses, otc_with_pending
from test_console_tokens import answer, sources
from textual.widgets import DataTable
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.token_detail import TokenDetailScreen

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize(("key", "status"), [("m", "matured"), ("x", "delisted")])
async def test_console_keys_close_otc_orders(engine, platform, console_as, chain_client, key: str,
                                             status: str) -> None:  # noqa: ANN001
    pending = otc_with_pending(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        tokens = app.screen.query_one("#tokens-table", DataTable)
        await until(pilot, lambda: any(row[0] == "OTC" for row in rows(tokens)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TokenDetailScreen))
        detail = app.screen
        await until(pilot, lambda: detail.view is not None)
        await answer(pilot, app, key, "y")
        await until(pilot, lambda: detail.view.token.status == status)
    assert free_funds(platform, "OTC") == pending["before"]
    assert set(otc_statuses(platform).values()) == {f"cancelled: the token is {status}"}
    assert sources(engine, "otc.close") == ["console", "console"]
