"""KYC review in the console, end to end on the real database."""

from __future__ import annotations

import pytest
from platform_builders import CIPHER
from sqlalchemy import text
from textual.widgets import DataTable
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.kyc import KycReviewScreen
from alefctl.tui.modals import ChoiceModal, TextModal
from alefctl.tui.widgets import NavBar
from alefctl.workflows.kyc import KycSubmission, submit_kyc

pytestmark = pytest.mark.asyncio


def applicant(platform, name: str = "nadia"):  # noqa: ANN001, ANN201
    """A person with a pending KYC application; returns the application id."""
    person = platform.person(name)
    with platform.engine.begin() as conn:
        return submit_kyc(conn, person, KycSubmission(name.title(), "AE", "passport",
                                                      "P99887766"), CIPHER).id


def audit_rows(engine, application_id) -> list[tuple[str, str]]:  # noqa: ANN001
    """The application's audit rows in chain order, without the reviewer's later views of the
    personal data (kyc.view, one per time the screen loads it)."""
    with engine.begin() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT action, source FROM audit_logs WHERE object_id = :id AND action <> 'kyc.view'"
            " ORDER BY seq"), {"id": application_id})]


async def test_approve_kyc_end_to_end(engine, platform, console_as) -> None:  # noqa: ANN001
    application_id = applicant(platform)
    app = AlefConsole(console_as("reviewer@x.io"), start="kyc")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#kyc-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        assert "Nadia" in rows(table)[0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KycReviewScreen)
                    and app.screen.application is not None)
        assert app.screen.application.document_number == "P99887766"
        assert audit_rows(engine, application_id) == [("kyc.submit", "cli"), ("kyc.open", "console")]
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        await pilot.press("down", "enter")  # level 3
        await until(pilot, lambda: not isinstance(app.screen, (ChoiceModal, KycReviewScreen)))
    with engine.begin() as conn:
        status, level = conn.execute(text("SELECT status, kyc_level FROM kyc_applications"
                                          " WHERE id = :id"), {"id": application_id}).one()
        user = conn.execute(text("SELECT kyc_status, accreditation_status FROM users"
                                 " WHERE email = 'nadia@x.io'")).one()
    assert (status, level) == ("approved", 3)
    assert tuple(user) == ("approved", "institutional")
    assert audit_rows(engine, application_id)[-1] == ("kyc.approve", "console")


async def test_reject_needs_a_reason(engine, platform, console_as) -> None:  # noqa: ANN001
    application_id = applicant(platform)
    app = AlefConsole(console_as("reviewer@x.io"), start="kyc")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#kyc-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KycReviewScreen))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        await pilot.press("enter")  # empty: refused in the dialog, which stays open
        await pilot.pause()
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"blurred scan", "enter")
        await until(pilot, lambda: not isinstance(app.screen, (TextModal, KycReviewScreen)))
    with engine.begin() as conn:
        status, reason = conn.execute(text("SELECT status, rejection_reason FROM kyc_applications"
                                           " WHERE id = :id"), {"id": application_id}).one()
    assert (status, reason) == ("rejected", "blurred scan")
    assert audit_rows(engine, application_id)[-1] == ("kyc.reject", "console")


async def test_an_issuer_does_not_see_the_kyc_queue(platform, console_as) -> None:  # noqa: ANN001
    applicant(platform)
    app = AlefConsole(console_as("issuer@x.io"), start="kyc")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actor is not None and app.current_mode == "overview")
        await pilot.press("2")  # KYC's key: not this role's screen
        await pilot.pause()
        assert app.current_mode == "overview"
        assert " 2 KYC " not in str(app.screen.query_one(NavBar).render())
        assert not app.screen.query("#kyc-table")
        assert [n.message for n in app._notifications] == []
