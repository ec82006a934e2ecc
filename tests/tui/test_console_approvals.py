"""The four-eyes queue in the console: list, details, approve (runs once), reject, self-approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from textual.widgets import DataTable
from tui_helpers import SIZE, rows, until
from tui_snapshot import capture

from alefctl.tui.app import AlefConsole
from alefctl.tui.approvals import ApprovalsScreen, age
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.workflows.wallet import deposit, submit_deposit, submit_withdrawal, withdraw

THRESHOLD = Decimal("10000")


def requests_by_admin(platform) -> tuple[str, str]:  # noqa: ANN001
    """A deposit and a withdrawal for the issuer, each awaiting a second admin; their ids."""
    with platform.engine.begin() as conn:
        for _ in range(2):  # 18000 below the threshold: made at once
            deposit(conn, platform.admin, platform.issuer.email, "9000")
        first = submit_deposit(conn, platform.admin, platform.issuer.email, "25000",
                               "wire 7781", threshold=THRESHOLD)
        second = submit_withdrawal(conn, platform.admin, platform.issuer.email, "12000",
                                   threshold=THRESHOLD)
    return str(first.id), str(second.id)


def state(engine, request_id: str) -> tuple[str, str | None, str | None]:  # noqa: ANN001
    with engine.begin() as conn:
        return tuple(conn.execute(text(
            "SELECT r.status, d.email, r.reason FROM approval_requests r"
            " LEFT JOIN users d ON d.id = r.decided_by WHERE r.id = :id"), {"id": request_id}).one())


def fiat(engine, email: str) -> Decimal:  # noqa: ANN001
    with engine.begin() as conn:
        return conn.execute(text("SELECT fiat_balance FROM users WHERE email = :e"),
                            {"e": email}).scalar_one()


async def open_queue(pilot, app: AlefConsole, count: int) -> DataTable:  # noqa: ANN001
    await until(pilot, lambda: isinstance(app.screen, ApprovalsScreen)
                and app.screen.query_one("#approvals-table", DataTable).row_count == count)
    return app.screen.query_one("#approvals-table", DataTable)


@pytest.mark.asyncio
async def test_a_second_admin_approves_and_rejects(engine, platform, console_as) -> None:  # noqa: ANN001
    deposit_id, withdrawal_id = requests_by_admin(platform)
    platform.person("checker", role="admin")
    app = AlefConsole(console_as("checker@x.io"), start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        table = await open_queue(pilot, app, 2)
        first, second = rows(table)
        assert first[3:7] == ["wallet.deposit", "25000.00", "admin@x.io", "pending"]
        assert second[3:7] == ["wallet.withdraw", "12000.00", "admin@x.io", "pending"]
        assert first[2] == "0 min"
        shown = capture(app)  # the highlighted request in full, below the table
        assert "summary       deposit 25000.00 USD to issuer@x.io (wire 7781)" in shown
        assert '"reference": "wire 7781"' in shown
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Approve and run now: deposit 25000.00 USD to issuer@x.io" in app.screen.question
        assert "Requested by admin@x.io" in app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        await pilot.press(*"client called it off", "enter")
        await until(pilot, lambda: table.row_count == 0)
        await pilot.press("f")  # every status
        await until(pilot, lambda: table.row_count == 2)
        assert {row[6] for row in rows(table)} == {"executed", "rejected"}
    assert state(engine, deposit_id) == ("executed", "checker@x.io", None)
    assert state(engine, withdrawal_id) == ("rejected", "checker@x.io", "client called it off")
    assert fiat(engine, "issuer@x.io") == Decimal("43000.00")
    with engine.begin() as conn:
        sources = set(conn.execute(text("SELECT source FROM audit_logs WHERE action IN"
                                        " ('approval.approve', 'approval.reject')")).scalars())
    assert sources == {"console"}


@pytest.mark.asyncio
async def test_the_requester_may_not_approve(engine, platform, console_as) -> None:  # noqa: ANN001
    deposit_id, _ = requests_by_admin(platform)
    app = AlefConsole(console_as("admin@x.io"), start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot, app, 2)
        screen = app.screen
        await pilot.press("a")
        await until(pilot, lambda: any("another admin must approve it" in n.message
                                       for n in app._notifications))
        assert app.screen is screen  # no dialog offered
    assert state(engine, deposit_id) == ("pending", None, None)
    assert fiat(engine, "issuer@x.io") == Decimal("18000.00")


@pytest.mark.asyncio
async def test_an_operation_refused_at_approval_is_shown_failed(engine, platform, console_as) -> None:  # noqa: ANN001
    _, withdrawal_id = requests_by_admin(platform)
    with engine.begin() as conn:  # the balance no longer covers the requested 12000
        withdraw(conn, platform.admin, platform.issuer.email, "9000")
    platform.person("checker", role="admin")
    app = AlefConsole(console_as("checker@x.io"), start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        table = await open_queue(pilot, app, 2)
        await pilot.press("down", "a")  # the withdrawal of 12000: the balance holds 9000
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "failed" in rows(table)[1])
        assert any("is now failed" in n.message for n in app._notifications)
    assert state(engine, withdrawal_id)[0] == "failed"


def test_age_reads_in_minutes_hours_and_days() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert [age(now - delta, now) for delta in (
        timedelta(seconds=59), timedelta(minutes=45), timedelta(hours=2, minutes=5),
        timedelta(days=3, hours=4, minutes=1))] == ["0 min", "45 min", "2 h 5 min", "3 d 4 h"]
