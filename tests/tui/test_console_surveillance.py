"""The surveillance queue in the console: the highlighted alert's evidence, acknowledge with a
note, dismiss and escalate with a reason, each audited; steps that no longer apply are explained;
the screen and its keys follow the policy."""

from __future__ import annotations

import pytest
from platform_builders import live_token, wallet_for
from sqlalchemy import text
from textual.widgets import DataTable, Static
from tui_builders import alert_on_first_trade, place
from tui_helpers import SIZE, rows, until
from tui_snapshot import capture

from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import TextModal
from alefctl.tui.surveillance import SurveillanceScreen

pytestmark = pytest.mark.asyncio


def an_alert(platform, chain_client) -> str:  # noqa: ANN001
    """amira sells 4 DATE to omar; an alert names that trade. Its id."""
    live_token(platform, chain_client, "DATE", {"amira": 100})
    platform.approved("omar", wallet=wallet_for("omar"), fiat="5000")
    place(platform, "amira", "DATE", "sell", 4, "10.00")
    place(platform, "omar", "DATE", "buy", 4, "10.00")
    with platform.engine.begin() as conn:
        return alert_on_first_trade(conn, "DATE")


def state(engine, alert_id: str) -> tuple:  # noqa: ANN001
    with engine.begin() as conn:
        return tuple(conn.execute(text(
            "SELECT a.status, u.email, a.notes FROM surveillance_alerts a"
            " LEFT JOIN users u ON u.id = a.assignee_id WHERE a.id = :id"), {"id": alert_id}).one())


def audited(engine, alert_id: str) -> list[str]:  # noqa: ANN001
    with engine.begin() as conn:
        return list(conn.execute(text("SELECT action FROM audit_logs WHERE object_id = :id"
                                      " ORDER BY seq"), {"id": alert_id}).scalars())


async def open_queue(pilot, app: AlefConsole, count: int) -> DataTable:  # noqa: ANN001
    await until(pilot, lambda: isinstance(app.screen, SurveillanceScreen)
                and app.screen.query_one("#alerts-table", DataTable).row_count == count)
    return app.screen.query_one("#alerts-table", DataTable)


async def answer(pilot, app: AlefConsole, words: str) -> None:  # noqa: ANN001
    await until(pilot, lambda: isinstance(app.screen, TextModal))
    if words:
        await pilot.press(*words)
    await pilot.press("enter")


async def test_acknowledge_then_escalate_with_the_evidence_shown(engine, platform, chain_client,
                                                                 console_as) -> None:  # noqa: ANN001
    alert_id = an_alert(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="surveillance")
    async with app.run_test(size=SIZE) as pilot:
        table = await open_queue(pilot, app, 1)
        assert rows(table)[0][2:7] == ["DATE", "wash_trading", "omar@x.io", "open", "-"]
        panel = app.screen.query_one("#alert-detail", Static)
        await until(pilot, lambda: panel.border_title is not None)
        shown = capture(app)
        assert "amira@x.io  sell" in shown and "omar@x.io   buy" in shown  # both orders
        assert "omar@x.io  amira@x.io  buy    10.00  4" in shown  # the trade, with its time
        await pilot.press("a")
        await answer(pilot, app, "on it")
        await until(pilot, lambda: rows(table) and rows(table)[0][5] == "acknowledged")
        assert rows(table)[0][6] == "admin@x.io"
        await pilot.press("a")  # already acknowledged: explained, no dialog
        await pilot.pause()
        assert not isinstance(app.screen, TextModal)
        assert "cannot be acknowledged" in [n.message for n in app._notifications][-1]
        await pilot.press("e")
        await answer(pilot, app, "")  # a reason is required: the dialog stays
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"pattern", "enter")
        await until(pilot, lambda: table.row_count == 0)
        status, assignee, notes = state(engine, alert_id)
        assert (status, assignee) == ("escalated", "admin@x.io")
        assert [(n["action"], n["text"]) for n in notes] == [("acknowledge", "on it"),
                                                             ("escalate", "pattern")]
        assert audited(engine, alert_id) == ["surveillance.acknowledge", "surveillance.escalate"]
        await pilot.press("f")  # every alert: the escalated one is still there, with its notes
        await open_queue(pilot, app, 1)
        await until(pilot, lambda: "escalate): pattern" in capture(app))


async def test_dismiss_straight_from_open(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    alert_id = an_alert(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="surveillance")
    async with app.run_test(size=SIZE) as pilot:
        table = await open_queue(pilot, app, 1)
        await pilot.press("d")
        await answer(pilot, app, "market maker")
        await until(pilot, lambda: table.row_count == 0)
    assert state(engine, alert_id)[0] == "dismissed"
    assert audited(engine, alert_id) == ["surveillance.dismiss"]


async def test_the_screen_is_for_those_who_may_read_alerts(platform, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("reviewer@x.io"), start="surveillance")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actor is not None)
        await pilot.pause(0.5)
        assert "Surveillance" not in capture(app)
        assert [n.message for n in app._notifications if "surveillance" in n.message] == []
