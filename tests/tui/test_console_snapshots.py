"""Snapshots of the main screens on a busy platform: every label, column, count and the layout.

Each screen is driven as an admin would (keys where a screen opens another), waits until its data
is shown, and is compared as text with tests/tui/snapshots/NAME.txt (see tui_snapshot).
Update after a deliberate change: `pytest tests/tui --snapshot-update`, then review the diff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from tui_builders import busy_platform, offering_with_confirmed_allocations
from tui_helpers import SIZE, until
from tui_snapshot import assert_snapshot

from alefctl.tui.app import AlefConsole
from alefctl.tui.kyc import KycReviewScreen
from alefctl.tui.modals import ConfirmModal
from alefctl.tui.overview import RECENT_ACTIVITY
from alefctl.tui.token_detail import TokenDetailScreen
from alefctl.tui.widgets import CountTile

pytestmark = pytest.mark.asyncio


def rows_of(pilot: Pilot, table_id: str) -> int:
    return pilot.app.screen.query_one(f"#{table_id}", DataTable).row_count


def text_of(pilot: Pilot, static_id: str) -> str:
    return str(pilot.app.screen.query_one(f"#{static_id}", Static).content)


async def overview(pilot: Pilot) -> None:
    await until(pilot, lambda: all(t.count is not None for t in pilot.app.screen.query(CountTile))
                and rows_of(pilot, "activity") == RECENT_ACTIVITY)


async def kyc_queue(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "kyc-table") == 1)


async def kyc_review(pilot: Pilot) -> None:
    await kyc_queue(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, KycReviewScreen)
                and pilot.app.screen.application is not None)


async def businesses(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "businesses-table") == 1)


async def tokens(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "tokens-table") == 2)


async def token_detail(pilot: Pilot) -> None:
    await tokens(pilot)
    await pilot.press("down", "enter")  # PALM: in its offering, one allocation awaiting payment
    await until(pilot, lambda: isinstance(pilot.app.screen, TokenDetailScreen)
                and pilot.app.screen.view is not None and rows_of(pilot, "deploy-steps") == 5)


async def market(pilot: Pilot) -> None:
    pilot.app.open_market("DATE")  # type: ignore[attr-defined]
    await until(pilot, lambda: pilot.app.current_mode == "market" and rows_of(pilot, "ladder") == 6
                and rows_of(pilot, "trades") == 4 and rows_of(pilot, "orders") == 6)


async def settlement(pilot: Pilot) -> None:
    await until(pilot, lambda: text_of(pilot, "settlement-title").startswith("Settlement ·"))


async def dividends(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "dividends-table") == 1
                and text_of(pilot, "payments-title").startswith("Payments ·"))


async def audit(pilot: Pilot) -> None:
    await until(pilot, lambda: text_of(pilot, "audit-title").startswith("Audit log ·"))


async def mints(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "mints-table") == 1)


async def approvals(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "approvals-table") == 2)


async def surveillance(pilot: Pilot) -> None:
    await until(pilot, lambda: rows_of(pilot, "alerts-table") == 1
                and rows_of(pilot, "breakers-table") == 1
                and pilot.app.screen.query_one("#alert-detail", Static).border_title is not None)


async def inbox(pilot: Pilot) -> None:
    await until(pilot, lambda: text_of(pilot, "inbox-title").startswith("Inbox ·")
                and rows_of(pilot, "inbox-table") > 0)


# snapshot name -> (the mode the console starts in, how to reach the screen and wait for its data)
SCREENS: dict[str, tuple[str, Callable[[Pilot], Awaitable[None]]]] = {
    "overview": ("overview", overview), "kyc_queue": ("kyc", kyc_queue),
    "kyc_review": ("kyc", kyc_review), "businesses": ("businesses", businesses),
    "tokens": ("tokens", tokens), "token_detail": ("tokens", token_detail),
    "market": ("overview", market), "settlement": ("settlement", settlement),
    "dividends": ("dividends", dividends), "audit": ("audit", audit), "mints": ("mints", mints),
    "surveillance": ("surveillance", surveillance), "approvals": ("approvals", approvals),
    "inbox": ("inbox", inbox),
}


@pytest.fixture
def busy(platform, tmp_path):  # noqa: ANN001, ANN201
    """The busy platform on an EVM of its own: same nonces, so same addresses, hashes and gas."""
    import chain

    client = chain.connect(data_dir=tmp_path / "chain")
    try:
        busy_platform(platform, client)
    finally:
        client.close()
    with platform.engine.begin() as conn:  # an age that reads the same on every run
        conn.execute(text("UPDATE approval_requests SET requested_at = now() - interval '125 min'"))
    return platform


@pytest.mark.parametrize("name", list(SCREENS))
async def test_screen_snapshot(name: str, busy, console_as, request) -> None:  # noqa: ANN001
    start, reach = SCREENS[name]
    app = AlefConsole(console_as("admin@x.io"), start=start)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.sub_title.startswith("as admin@x.io"))
        await reach(pilot)
        await assert_snapshot(pilot, name, request.config)


async def test_a_reviewers_overview_snapshot(busy, console_as, request) -> None:  # noqa: ANN001
    """The overview as a KYC reviewer sees it: their tabs and counts, no audit activity."""
    app = AlefConsole(console_as("reviewer@x.io"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.sub_title.startswith("as reviewer@x.io") and all(
            t.count is not None for t in app.screen.query(CountTile) if t.display))
        await assert_snapshot(pilot, "overview_reviewer", request.config)


async def test_go_live_confirmation_snapshot(platform, tmp_path, console_as, request) -> None:  # noqa: ANN001
    """Go-live's dialog over the token: what it will do, and the warning of mints not on-chain."""
    import chain

    client = chain.connect(data_dir=tmp_path / "chain")  # its own EVM: the same addresses each run
    try:
        offering_with_confirmed_allocations(platform, client)
    finally:
        client.close()
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.actor is not None and rows_of(pilot, "tokens-table") == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TokenDetailScreen)
                    and app.screen.view is not None)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await assert_snapshot(pilot, "go_live_confirmation", request.config)
