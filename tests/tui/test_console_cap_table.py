"""The cap table in the console's token detail: the admins' and the token's issuer's."""

from __future__ import annotations

import pytest
from register_builders import trading_token
from test_console_tokens import open_token
from textual.widgets import Static
from tui_helpers import SIZE

from alefctl.tui.app import AlefConsole
from alefctl.tui.token_detail import load_token_view

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("email", ["admin@x.io", "issuer@x.io"])
async def test_token_detail_shows_the_cap_table(platform, console_as, email) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100}, treasury=10)
    app = AlefConsole(console_as(email), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        shares = detail.query_one("#token-cap-table", Static)
        assert shares.display and shares.border_title == "cap table"
        table = detail.view.cap_table
        assert (table.issued, table.outstanding, table.held, table.treasury,
                table.holder_count) == (110, 110, 110, 10, 2)


async def test_another_issuer_gets_no_cap_table(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100})
    otto = platform.approved("otto", role="issuer")
    with platform.engine.begin() as conn:
        assert load_token_view(conn, otto, "DATE").cap_table is None
        assert load_token_view(conn, platform.admin, "DATE").cap_table.held == 100
