"""Each role sees the screens and keys the policy gives it, and meets no "Refused" pop-up."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable
from tui_helpers import SIZE, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.token_detail import TokenDetailScreen
from alefctl.tui.widgets import NAVIGATION, CountTile, NavBar

pytestmark = pytest.mark.asyncio
REVIEWER_SCREENS = {"overview", "kyc", "businesses", "tokens", "market"}
NUMBER_KEYS = "1234567890"


def tabs(app: AlefConsole) -> str:
    """The navigation bar as shown."""
    return Text.from_markup(str(app.screen.query_one(NavBar).render())).plain


async def test_a_reviewer_sees_only_their_screens(platform, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("reviewer@x.io"))
    async with app.run_test(size=SIZE) as pilot:
        tiles = list(app.screen.query(CountTile))
        await until(pilot, lambda: app.actor is not None and all(
            t.count is not None for t in tiles if t.display))
        assert {t.id for t in tiles if t.display} == {"tile-kyc", "tile-businesses", "tile-payments",
                                                      "tile-unread"}  # their inbox
        assert not app.screen.query_one("#activity", DataTable).display  # the audit log is admins'
        assert tabs(app).split() == ["1", "Overview", "2", "KYC", "3", "Businesses", "4", "Tokens",
                                     "5", "Market"]
        for key in NUMBER_KEYS:
            await pilot.press(key)
            await until(pilot, lambda: app.current_mode in REVIEWER_SCREENS)
        await pilot.pause(2.5)  # a poll of the overview and of the market, had they been refused
        assert [n.message for n in app._notifications] == []
        commands = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Go to KYC", "Go to Market", "Go to Inbox"} <= commands
        assert not commands & {"Go to Audit log", "Go to Settlement", "Go to Four-eyes approvals",
                               "Go to OTC approvals"}


async def test_an_issuer_reads_their_businesses_without_the_review_keys(platform, console_as) -> None:  # noqa: ANN001
    platform.business()
    app = AlefConsole(console_as("issuer@x.io"), start="businesses")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#businesses-table", DataTable)
        await pilot.press("f")  # every status: their active business
        await until(pilot, lambda: table.row_count == 1)
        assert {"a", "r"}.isdisjoint(app.screen.active_bindings)
        assert "f" in app.screen.active_bindings
        screen = app.screen
        await pilot.press("a")  # no key: nothing opens, nothing refused
        await pilot.pause()
        assert app.screen is screen and [n.message for n in app._notifications] == []
        assert "Dividends" in tabs(app) and "Settlement" not in tabs(app)


async def test_an_admin_sees_every_screen(platform, console_as) -> None:  # noqa: ANN001
    app = AlefConsole(console_as("admin@x.io"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actor is not None)
        assert all(f" {key} {title} " in tabs(app) for _mode, key, title in NAVIGATION)
        assert all(t.display for t in app.screen.query(CountTile))


async def test_an_issuer_sees_a_token_without_investors_or_lifecycle_keys(platform, console_as) -> None:  # noqa: ANN001
    platform.draft_token("DATE")
    app = AlefConsole(console_as("issuer@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tokens-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TokenDetailScreen)
                    and app.screen.view is not None)
        assert not app.screen.query_one("#allocations-table", DataTable).display
        keys = {b.binding.description for b in app.screen.active_bindings.values() if b.binding.show}
        assert "Set NAV" in keys  # an issuer records their token's NAV
        assert keys.isdisjoint({"Deploy", "Start offering", "Confirm payments", "Go live", "Pause",
                                "Delist", "Protections", "Compliance", "Offering window",
                                "Redeem"})
        assert [n.message for n in app._notifications] == []
