"""Tokens in the console: deploy with its steps, start the offering, confirm payments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from textual.widgets import DataTable
from tui_builders import offering_with_confirmed_allocations, offering_with_subscriptions
from tui_helpers import SIZE, rows, until

from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.tui.token_detail import TokenDetailScreen
from alefctl.workflows.lifecycle import start_offering

pytestmark = pytest.mark.asyncio


def sources(engine, action: str) -> list[str]:  # noqa: ANN001
    with engine.begin() as conn:
        return list(conn.execute(text("SELECT source FROM audit_logs WHERE action = :a"
                                      " ORDER BY created_at"), {"a": action}).scalars())


async def open_token(pilot, app: AlefConsole, symbol: str) -> TokenDetailScreen:  # noqa: ANN001
    """From the tokens list, open the token's detail and wait for it to load."""
    table = app.screen.query_one("#tokens-table", DataTable)
    await until(pilot, lambda: any(row[0] == symbol for row in rows(table)))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, TokenDetailScreen)
                and app.screen.view is not None)
    return app.screen


async def answer(pilot, app: AlefConsole, key: str, *keys: str) -> None:  # noqa: ANN001
    """Press an action key, then answer its dialog."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal | TextModal))
    await pilot.press(*keys)
    await until(pilot, lambda: isinstance(app.screen, TokenDetailScreen))


async def test_deploy_then_start_offering(engine, platform, console_as, chain_client) -> None:  # noqa: ANN001
    platform.draft_token("DATE")
    app = AlefConsole(console_as("admin@x.io", chain_client), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        await answer(pilot, app, "d", "y")
        steps = detail.query_one("#deploy-steps", DataTable)
        await until(pilot, lambda: detail.view.token.contract_address is not None
                    and steps.row_count == 5, timeout=120)
        assert [row[0] for row in rows(steps)] == [
            "identity_registry", "compliance", "token", "identity_registry_agent", "token_agent"]
        await answer(pilot, app, "o", "y")
        await until(pilot, lambda: detail.view.token.status == "primary")
        await answer(pilot, app, "n", *"12.50", "enter")
        await until(pilot, lambda: detail.view.token.nav_per_token == Decimal("12.50"))
    assert sources(engine, "token.deploy") == ["console"]
    assert sources(engine, "token.start_offering") == ["console"]
    assert sources(engine, "token.set_nav") == ["console"]


async def test_confirm_payments(engine, platform, console_as, chain_client) -> None:  # noqa: ANN001
    offering_with_subscriptions(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        allocations = detail.query_one("#allocations-table", DataTable)
        assert allocations.row_count == 2
        await answer(pilot, app, "c", "y")
        await until(pilot, lambda: allocations.row_count == 0 and detail.view.token.tokens_sold == 350)
    with engine.begin() as conn:
        statuses = conn.execute(text("SELECT status, count(*) FROM token_allocations"
                                     " GROUP BY status")).all()
        raised = conn.execute(text("SELECT total_raised FROM tokens WHERE symbol = 'DATE'")).scalar()
    assert [tuple(s) for s in statuses] == [("confirmed", 2)]
    assert str(raised) == "3500.00"
    assert sources(engine, "offering.confirm_payment") == ["console"]


async def test_actions_that_cannot_apply_say_the_next_step(platform, console_as) -> None:  # noqa: ANN001
    platform.draft_token("DATE")
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        for key, says in (("o", "not deployed yet: d deploys it, then o opens its offering"),
                          ("c", "No allocation of DATE awaits payment confirmation"),
                          ("s", "Cannot take live DATE: it is draft, and this needs primary"),
                          ("p", "Cannot pause DATE: it is draft, and this needs secondary")):
            await pilot.press(key)  # no dialog: a notice with what it needs instead
            await until(pilot, lambda says=says: any(says in n.message for n in app._notifications))
            assert app.screen is detail
        assert all(n.severity != "error" for n in app._notifications)
        assert detail.view.token.status == "draft"


async def test_go_live_shows_what_will_happen(engine, platform, console_as, chain_client) -> None:  # noqa: ANN001
    offering_with_confirmed_allocations(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        question = app.screen.question
        for line in ("sold in the offering   350 tokens, raised 3,500.00 USD",
                     "treasury allocation    500 tokens", "success fee            70.00 USD (2%)",
                     "issuer proceeds        3,430.00 USD", "mints still pending    2",
                     "Warning: 2 allocations are not on-chain yet (2 pending)"):
            assert line in question
        assert sources(engine, "token.enable_secondary") == []  # the preview kept nothing
        await pilot.press("n")
        await until(pilot, lambda: app.screen is detail)
        assert detail.view.token.status == "primary"
        await answer(pilot, app, "s", "y")
        await until(pilot, lambda: detail.view.token.status == "secondary")
    assert sources(engine, "token.enable_secondary") == ["console"]
    with engine.begin() as conn:
        fees = conn.execute(text("SELECT count(*) FROM audit_logs WHERE action ="
                                 " 'token.pay_out_escrow'")).scalar_one()
    assert fees == 1


async def test_cancel_offering_refunds_from_the_console(engine, platform, console_as, chain_client) -> None:  # noqa: ANN001
    offering_with_subscriptions(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        await answer(pilot, app, "z", *"withdrawn", "enter")
        await until(pilot, lambda: detail.view.token.status == "cancelled")
    with engine.begin() as conn:
        refunded = conn.execute(text("SELECT count(*) FROM token_allocations WHERE status ="
                                     " 'refunded'")).scalar_one()
    assert refunded == 2
    assert sources(engine, "offering.cancel") == ["console"]
