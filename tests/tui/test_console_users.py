"""Users in the console (ctrl+p, Go to Users): deactivate and activate, FATCA, revoke KYC, rate
limits."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from test_console_dividends import press_and_answer
from test_console_token_settings import closed_to, problem, submit
from test_console_tokens import sources
from textual.widgets import DataTable, Input
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import FormModal
from alefctl.tui.users import UsersScreen

pytestmark = pytest.mark.asyncio


def user_row(engine, email: str) -> tuple:  # noqa: ANN001
    with engine.begin() as conn:
        return tuple(conn.execute(text(
            "SELECT u.is_activated, u.fatca_status, r.orders_per_s, r.reads_per_s FROM users u"
            " LEFT JOIN user_rate_limits r ON r.user_id = u.id WHERE u.email = :e"),
            {"e": email}).one())


async def highlight(pilot, app: AlefConsole, email: str) -> DataTable:  # noqa: ANN001
    table = app.screen.query_one("#users-table", DataTable)
    await until(pilot, lambda: any(row[0] == email for row in rows(table)))
    table.move_cursor(row=next(i for i, row in enumerate(rows(table)) if row[0] == email))
    return table


async def form(pilot, app: AlefConsole, key: str, **answers: str) -> FormModal:  # noqa: ANN001
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, FormModal))
    shown = app.screen
    for name, value in answers.items():
        shown.query_one(f"#field-{name}", Input).value = value
    await submit(pilot, shown)
    return shown


async def test_deactivate_activate_fatca_and_rates(engine, platform, console_as) -> None:  # noqa: ANN001
    platform.approved("amira")
    app = AlefConsole(console_as("admin@x.io"), start="users")
    async with app.run_test(size=SIZE) as pilot:
        table = await highlight(pilot, app, "amira@x.io")
        await press_and_answer(pilot, app, "d", "y")
        await until(pilot, lambda: user_row(engine, "amira@x.io")[0] is False)
        await pilot.press("a")
        await until(pilot, lambda: user_row(engine, "amira@x.io")[0] is True)
        await until(pilot, lambda: any(row[0] == "amira@x.io" and row[3] == "yes"
                                       for row in rows(table)))
        shown = await form(pilot, app, "f", status="blocked", reason="")
        await until(pilot, lambda: "reason" in problem(shown))
        shown.query_one("#field-reason", Input).value = "W-9 missing"
        await submit(pilot, shown)
        await closed_to(pilot, app, UsersScreen)
        shown = await form(pilot, app, "l", orders="5", reads="x")
        await until(pilot, lambda: "whole number" in problem(shown))
        shown.query_one("#field-reads", Input).value = "50"  # the default: left to it
        await submit(pilot, shown)
        await closed_to(pilot, app, UsersScreen)
        assert user_row(engine, "amira@x.io") == (True, "blocked", 5, None)
        shown = await form(pilot, app, "l", orders="", reads="")  # back to the defaults
        await closed_to(pilot, app, UsersScreen)
        await press_and_answer(pilot, app, "v", *"document expired", "enter")
        await until(pilot, lambda: any(row[0] == "amira@x.io" and row[4] == "rejected"
                                       for row in rows(table)))
        await pilot.press("v")  # nothing approved to revoke now: a notice, no dialog
        await until(pilot, lambda: any("no approved KYC" in n.message for n in app._notifications))
    assert user_row(engine, "amira@x.io")[2:] == (None, None)
    with engine.begin() as conn:
        audited = conn.execute(text("SELECT action, source FROM audit_logs"
                                    " WHERE action LIKE 'user.%' ORDER BY created_at")).all()
    assert [tuple(a) for a in audited if a.source == "console"] == [
        ("user.deactivate", "console"), ("user.activate", "console"), ("user.fatca", "console"),
        ("user.rate_limit", "console"), ("user.rate_limit", "console")]
    assert sources(engine, "kyc.revoke") == ["console"]


async def test_users_need_an_admin(platform, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("reviewer@x.io"), start="users")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actor is not None)
        await until(pilot, lambda: not isinstance(app.screen, UsersScreen))
