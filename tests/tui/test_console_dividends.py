"""Dividends in the console: approve, then distribute with progress, on a live token."""

from __future__ import annotations

import pytest
from platform_builders import live_token
from sqlalchemy import text
from textual.widgets import DataTable, ProgressBar
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.workflows.dividends.declaration import NewDividend, declare
from alefctl.workflows.dividends.review import submit
from alefctl.workflows.wallet import deposit

pytestmark = pytest.mark.asyncio


def submitted_dividend(platform, chain_client) -> str:  # noqa: ANN001
    """A fiat dividend of a live token with two holders, awaiting approval; returns its id."""
    live_token(platform, chain_client, holders={"amira": 100, "omar": 300})
    with platform.engine.begin() as conn:
        deposit(conn, platform.admin, platform.issuer.email, "10000")
        dividend = declare(conn, platform.issuer, NewDividend("DATE", "fiat", per_token_usd="1.50"),
                           fee_pct="1.00")
        submit(conn, platform.issuer, str(dividend.id))
    return str(dividend.id)


def dividend_state(engine, dividend_id: str) -> tuple[str, list[tuple[str, int]]]:  # noqa: ANN001
    with engine.begin() as conn:
        status = conn.execute(text("SELECT status FROM dividend_declarations WHERE id = :d"),
                              {"d": dividend_id}).scalar_one()
        payments = conn.execute(text("SELECT status, count(*) FROM dividend_payments"
                                     " WHERE dividend_id = :d GROUP BY status"), {"d": dividend_id})
        return status, [tuple(p) for p in payments]


async def press_and_answer(pilot, app, key: str, *answer: str) -> None:  # noqa: ANN001
    screen = app.screen
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal | TextModal))
    await pilot.press(*answer)
    await until(pilot, lambda: app.screen is screen)


async def test_approve_and_distribute(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    dividend_id = submitted_dividend(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="dividends")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#dividends-table", DataTable)
        payments = app.screen.query_one("#payments-table", DataTable)
        await until(pilot, lambda: table.row_count == 1 and payments.row_count == 2)  # no treasury: it earns none
        assert "pending_approval" in rows(table)[0]
        await press_and_answer(pilot, app, "a", "y")
        await until(pilot, lambda: "approved" in rows(table)[0])
        await press_and_answer(pilot, app, "d", "y")
        await until(pilot, lambda: "distributed" in rows(table)[0])
        bar = app.screen.query_one("#distribution-progress", ProgressBar)
        assert (bar.progress, bar.total) == (2, 2)
        assert [row[-2] for row in rows(payments)] == ["paid"] * 2
    assert dividend_state(engine, dividend_id) == ("distributed", [("paid", 2)])
    with engine.begin() as conn:
        audited = conn.execute(text("SELECT action, source FROM audit_logs WHERE object_id = :d"
                                    " ORDER BY created_at"), {"d": dividend_id}).all()
    assert [tuple(a) for a in audited] == [
        ("dividend.declare", "cli"), ("dividend.submit", "cli"), ("dividend.approve", "console"),
        ("dividend.start_distribution", "console"), ("dividend.distribute", "console")]


async def test_cancel_asks_first(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    dividend_id = submitted_dividend(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="dividends")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#dividends-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await press_and_answer(pilot, app, "x", "escape")  # backed out: nothing changes
        assert dividend_state(engine, dividend_id)[0] == "pending_approval"
        await press_and_answer(pilot, app, "x", *"wrong amount", "enter")
        await until(pilot, lambda: "cancelled" in rows(table)[0])
    assert dividend_state(engine, dividend_id)[0] == "cancelled"


async def test_a_draft_is_not_offered_for_approval(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    live_token(platform, chain_client, holders={"amira": 100})
    with engine.begin() as conn:
        draft = declare(conn, platform.issuer, NewDividend("DATE", "fiat", per_token_usd="1.00"),
                        fee_pct="1.00")
    app = AlefConsole(console_as("admin@x.io"), start="dividends")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#dividends-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        screen = app.screen
        for key, says in (("a", "Cannot approve the DATE dividend: it is a draft: the issuer must"
                                " submit it first"),
                          ("d", "Cannot distribute the DATE dividend: it is a draft")):
            await pilot.press(key)  # no dialog: the next step instead
            await until(pilot, lambda says=says: any(says in n.message for n in app._notifications))
            assert app.screen is screen
    assert dividend_state(engine, str(draft.id))[0] == "draft"
