"""Failed dividend payments in the console: r pays them again, t asks a second admin to pay the
highlighted one to another account."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from test_console_dividends import dividend_state, press_and_answer, submitted_dividend
from textual.widgets import DataTable, Input
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.dividends import DividendsScreen
from alefctl.tui.modals import FormModal
from alefctl.workflows.dividends.distribution import distribute
from alefctl.workflows.dividends.review import approve
from alefctl.workflows.eligibility import deactivate_user

pytestmark = pytest.mark.asyncio


def failed_dividend(platform, chain_client) -> str:  # noqa: ANN001
    """A distributed fiat dividend whose payment to omar failed (deactivated); its id."""
    dividend_id = submitted_dividend(platform, chain_client)
    deactivate_user(platform.engine, platform.admin, "omar@x.io")
    with platform.engine.begin() as conn:
        approve(conn, platform.admin, dividend_id)
    distribute(platform.engine, platform.admin, dividend_id)
    return dividend_id


async def test_retry_then_reroute_a_failed_payment(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    dividend_id = failed_dividend(platform, chain_client)
    assert dividend_state(engine, dividend_id)[1] == [("failed", 1), ("paid", 1)]
    app = AlefConsole(console_as("admin@x.io"), start="dividends")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        payments = screen.query_one("#payments-table", DataTable)
        await until(pilot, lambda: payments.row_count == 2)
        await press_and_answer(pilot, app, "r", "y")  # omar is still deactivated: fails again
        await until(pilot, lambda: any("1 retried, 0 paid, 1 failed again" in n.message
                                       for n in app._notifications))
        failed = next(i for i, row in enumerate(rows(payments)) if "failed" in row)
        payments.move_cursor(row=failed)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form.query_one("#field-to", Input).value = "amira@x.io"
        form.query_one(Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        await until(pilot, lambda: any("awaits a second admin" in n.message
                                       for n in app._notifications))
    with engine.begin() as conn:
        requested = conn.execute(text("SELECT status, params->>'to_email' FROM approval_requests"
                                      " WHERE kind = 'dividend.reroute'")).all()
        retried = conn.execute(text("SELECT source FROM audit_logs WHERE action = 'dividend.retry'")
                               ).scalars().all()
    assert [tuple(r) for r in requested] == [("pending", "amira@x.io")]
    assert retried == ["console"]
    assert dividend_state(engine, dividend_id)[1] == [("failed", 1), ("paid", 1)]


async def test_no_failed_payment_no_dialog(platform, chain_client, console_as) -> None:  # noqa: ANN001
    submitted_dividend(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="dividends")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#dividends-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("r")
        await until(pilot, lambda: any("has failed" in n.message for n in app._notifications))
        assert isinstance(app.screen, DividendsScreen)
