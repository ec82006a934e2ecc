"""Businesses (approve, reject with a reason) and failed mints (retry) in the console."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from textual.widgets import DataTable
from tui_helpers import SIZE, rows, until

from alefctl.ids import new_id
from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.workflows.businesses import NewBusiness, register_business

pytestmark = pytest.mark.asyncio


def registered(platform, name: str) -> str:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return str(register_business(conn, platform.issuer, NewBusiness(
            name, f"REG-{name[:5].upper()}", "AE", "agriculture", "5")).id)


def business_state(engine, business_id: str) -> tuple[str, str | None, str]:  # noqa: ANN001
    with engine.begin() as conn:
        status, reason = conn.execute(text("SELECT status, rejection_reason FROM businesses"
                                           " WHERE id = :id"), {"id": business_id}).one()
        source = conn.execute(text("SELECT source FROM audit_logs WHERE object_id = :id"
                                   " ORDER BY created_at DESC LIMIT 1"), {"id": business_id}).scalar()
    return status, reason, source


async def test_approve_and_reject_businesses(engine, platform, console_as) -> None:  # noqa: ANN001
    first, second = registered(platform, "Olive Groves"), registered(platform, "Palm Oil Co")
    app = AlefConsole(console_as("admin@x.io"), start="businesses")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#businesses-table", DataTable)
        await until(pilot, lambda: table.row_count == 2)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 1)  # only pending ones are listed
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        await pilot.press(*"no licence", "enter")
        await until(pilot, lambda: table.row_count == 0)
        await pilot.press("f")  # all businesses
        await until(pilot, lambda: table.row_count == 2 and "rejected" in rows(table)[1])
    assert business_state(engine, first) == ("active", None, "console")
    assert business_state(engine, second) == ("rejected", "no licence", "console")


async def test_retry_failed_mints(engine, platform, console_as) -> None:  # noqa: ANN001
    token = platform.draft_token("DATE")
    investor = platform.approved("amira")
    allocation_id = new_id()
    with engine.begin() as conn:
        # What the chain worker leaves when a mint fails (the worker is not run here).
        conn.execute(text(
            "INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type, status,"
            " on_chain_status, on_chain_error) VALUES (:id, :t, :u, 10, 'airdrop', 'confirmed',"
            " 'failed', 'investor has no wallet address')"),
            {"id": allocation_id, "t": token.id, "u": investor.user_id})
    app = AlefConsole(console_as("admin@x.io"), start="mints")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#mints-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        assert rows(table)[0][-1] == "investor has no wallet address"
        await pilot.press("r")
        await until(pilot, lambda: table.row_count == 0)
    with engine.begin() as conn:
        status = conn.execute(text("SELECT on_chain_status FROM token_allocations WHERE id = :id"),
                              {"id": allocation_id}).scalar_one()
        source = conn.execute(text("SELECT source FROM audit_logs WHERE action ="
                                   " 'allocation.retry_mint'")).scalar_one()
    assert (status, source) == ("pending", "console")


async def test_the_inbox_marks_one_then_all_read(engine, platform, console_as) -> None:  # noqa: ANN001
    registered(platform, "Olive Groves"), registered(platform, "Palm Oil Co")
    from textual.widgets import Static

    app = AlefConsole(console_as("admin@x.io"), start="inbox")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#inbox-table", DataTable)
        title = app.screen.query_one("#inbox-title", Static)
        await until(pilot, lambda: table.row_count >= 2)
        unread = int(str(title.content).split("·")[1].split()[0])
        assert unread == table.row_count and "business.pending" in rows(table)[0]
        await pilot.press("r")
        await until(pilot, lambda: str(title.content) == f"Inbox · {unread - 1} unread")
        assert rows(table)[-1][0] == ""  # the read one goes after the unread
        await pilot.press("R")
        await until(pilot, lambda: str(title.content) == "Inbox · 0 unread")
    with engine.begin() as conn:
        marked = conn.execute(text("SELECT count(*) FROM notification_reads r JOIN users u"
                                   " ON u.id = r.user_id WHERE u.email = 'admin@x.io'"))
        assert marked.scalar_one() == unread
