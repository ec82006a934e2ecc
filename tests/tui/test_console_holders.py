"""The holders screen (l on a token's detail): database and chain figures side by side, a partial
freeze sent on-chain at once, and a burn requested for a second admin; audited as the console."""

from __future__ import annotations

import pytest
from settlement_helpers import minted_token
from sqlalchemy import text
from textual.widgets import DataTable
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.holders import HoldersScreen
from alefctl.tui.modals import TextModal
from alefctl.tui.token_detail import TokenDetailScreen

pytestmark = pytest.mark.asyncio


async def answer(pilot, app: AlefConsole, *answers: str) -> None:  # noqa: ANN001
    """Answer the dialogs one after the other."""
    for words in answers:
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        await pilot.press(*words, "enter")
    await until(pilot, lambda: isinstance(app.screen, HoldersScreen))


async def test_freeze_tokens_and_request_a_burn(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    minted_token(platform, chain_client, "FRZ", {"alice": 100, "bob": 50})
    app = AlefConsole(console_as("admin@x.io", chain_client), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        tokens = app.screen.query_one("#tokens-table", DataTable)
        await until(pilot, lambda: any(row[0] == "FRZ" for row in rows(tokens)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TokenDetailScreen))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, HoldersScreen)
                    and app.screen.query_one("#holders-table", DataTable).row_count == 3)
        holders = app.screen.query_one("#holders-table", DataTable)
        assert rows(holders)[0][:7] == ["alice@x.io", "100", "0", "0", "False", "100", "100"]
        await pilot.press("z")
        await answer(pilot, app, "30", "court order")
        await until(pilot, lambda: rows(holders)[0][3] == "30" and rows(holders)[0][7] == "30")
        operations = app.screen.query_one("#operations-table", DataTable)
        await until(pilot, lambda: rows(operations) and rows(operations)[0][5] == "done")
        assert rows(holders)[0][5] == "70" and rows(holders)[0][9] == "True"
        await pilot.press("down", "b")  # bob
        await answer(pilot, app, "5", "cancelled issue")
        await until(pilot, lambda: any("second admin" in n.message for n in app._notifications))
    with engine.begin() as conn:
        sources = conn.execute(text("SELECT action, source FROM audit_logs WHERE action IN"
                                    " ('holder.freeze', 'approval.request') ORDER BY seq")).all()
        pending = conn.execute(text("SELECT kind, params ->> 'from_email' FROM approval_requests"
                                    " WHERE status = 'pending'")).one()
    assert [tuple(row) for row in sources] == [("holder.freeze", "console"),
                                               ("approval.request", "console")]
    assert tuple(pending) == ("token.burn", "bob@x.io")
