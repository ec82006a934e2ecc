"""A token's settings in the console: protections (b), compliance rules (e), the offering's
window (w), the redemption request (r), the trading mode (t) and the session end (g), each a
form whose refusal shows in the dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from platform_builders import live_token
from settlement_helpers import LIMITS
from sqlalchemy import text
from test_console_tokens import open_token, sources
from textual.widgets import DataTable, Input, Label
from tui_builders import offering_with_subscriptions
from tui_helpers import SIZE, rows, until
from tui_snapshot import assert_snapshot

from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import ChoiceModal, FormModal
from alefctl.tui.token_detail import TokenDetailScreen
from alefctl.workflows.compliance import get_rules
from alefctl.workflows.lifecycle import retire

pytestmark = pytest.mark.asyncio


async def open_form(pilot, app: AlefConsole, key: str) -> FormModal:  # noqa: ANN001
    """Press a key and wait for its form."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, FormModal))
    return app.screen


async def fill(pilot, app: AlefConsole, key: str, **answers: str) -> FormModal:  # noqa: ANN001
    """Press a key, fill its form's lines (by field name) and submit it."""
    form = await open_form(pilot, app, key)
    for name, value in answers.items():
        form.query_one(f"#field-{name}", Input).value = value
    await submit(pilot, form)
    return form


async def submit(pilot, form: FormModal) -> None:  # noqa: ANN001
    """Enter in the form's first line submits it (as its button does)."""
    form.query(Input).first().focus()
    await pilot.press("enter")


async def closed(pilot, app: AlefConsole) -> None:  # noqa: ANN001
    await closed_to(pilot, app, TokenDetailScreen)


async def closed_to(pilot, app: AlefConsole, screen: type) -> None:  # noqa: ANN001
    """Wait for the form to close (its call succeeded); else fail with what it showed."""
    form = app.screen
    try:
        await until(pilot, lambda: isinstance(app.screen, screen))
    except AssertionError:
        raise AssertionError(f"the form stayed open: {problem(form)}") from None


def problem(form: FormModal) -> str:
    return str(form.query_one("#problem", Label).content)


def token_row(engine, columns: str) -> tuple:  # noqa: ANN001
    with engine.begin() as conn:
        return tuple(conn.execute(text(f"SELECT {columns} FROM tokens WHERE symbol = 'DATE'")).one())


async def test_protections_set_refused_then_back_to_the_default(engine, platform, console_as,
                                                                chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 10})
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await open_token(pilot, app, "DATE")
        form = await fill(pilot, app, "b", breaker_move_pct="-3")
        await until(pilot, lambda: "Saving" not in problem(form) and problem(form) != "")
        assert "breaker_move_pct" in problem(form) or "must" in problem(form)
        assert isinstance(app.screen, FormModal)  # still open, to correct the input
        form.query_one("#field-breaker_move_pct", Input).value = "5"
        form.query_one("#field-fat_finger_pct", Input).value = "2.5"
        await submit(pilot, form)
        await closed(pilot, app)
        assert [str(v) for v in token_row(engine, "breaker_move_pct, fat_finger_pct")] == [
            "5.00", "2.50"]
        form = await open_form(pilot, app, "b")
        assert form.query_one("#field-breaker_move_pct", Input).value == "5.00"
        form.query_one("#field-breaker_move_pct", Input).value = ""  # back to the default
        await submit(pilot, form)
        await closed(pilot, app)
    breaker, fat_finger = token_row(engine, "breaker_move_pct, fat_finger_pct")
    assert breaker is None and str(fat_finger) == "2.50"
    assert sources(engine, "token.protections") == ["console", "console"]


async def test_compliance_rules_deny_and_lift(engine, platform, console_as, chain_client) -> None:  # noqa: ANN001
    token = live_token(platform, chain_client, "DATE", {"alice": 10})
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await open_token(pilot, app, "DATE")
        await fill(pilot, app, "e", denied="us, ir", max_balance="500", max_holders="")
        await closed(pilot, app)
        with engine.begin() as conn:
            first = get_rules(conn, token.id)
        assert (first.denied_countries, first.max_balance, first.max_holders) == (
            ("IR", "US"), 500, None)
        form = await open_form(pilot, app, "e")
        assert form.query_one("#field-denied", Input).value == "IR US"
        assert form.query_one("#field-max_balance", Input).value == "500"
        form.query_one("#field-denied", Input).value = "IR"
        form.query_one("#field-max_balance", Input).value = ""
        await pilot.click("#confirm")  # the button submits as enter does
        await closed(pilot, app)
    with engine.begin() as conn:
        rules = get_rules(conn, token.id)
    assert (rules.denied_countries, rules.allowed_countries, rules.max_balance) == (
        ("IR",), ("US",), None)
    assert sources(engine, "token.compliance") == ["console", "console"]


async def test_offering_window_refuses_the_past_then_moves(engine, platform, console_as,
                                                         chain_client) -> None:  # noqa: ANN001
    offering_with_subscriptions(platform, chain_client)
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await open_token(pilot, app, "DATE")
        form = await fill(pilot, app, "w", ends_at="2020-01-01")
        await until(pilot, lambda: "future" in problem(form))
        end = (datetime.now(UTC) + timedelta(days=60)).replace(microsecond=0)
        form.query_one("#field-ends_at", Input).value = end.isoformat()
        await submit(pilot, form)
        await closed(pilot, app)
    assert token_row(engine, "primary_end") == (end,)
    assert sources(engine, "offering.window") == ["console"]


async def test_offering_window_only_while_the_offering_runs(platform, console_as, chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 10})
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await open_token(pilot, app, "DATE")
        await pilot.press("w")
        await until(pilot, lambda: any("needs primary" in n.message for n in app._notifications))
        assert isinstance(app.screen, TokenDetailScreen)


async def test_redeem_requests_a_second_admins_approval(engine, platform, console_as,
                                                        chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 10})
    retire(platform.engine, platform.admin, "DATE", "mature", LIMITS)
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await open_token(pilot, app, "DATE")
        form = await fill(pilot, app, "r", price="ten")
        await until(pilot, lambda: "must be a number" in problem(form))
        form.query_one("#field-price", Input).value = "10.50"
        await submit(pilot, form)
        await closed(pilot, app)
        await until(pilot, lambda: any("awaits a second admin" in n.message
                                       for n in app._notifications))
        app.switch_mode("approvals")
        await until(pilot, lambda: app.screen.query("#approvals-table DataTable, #approvals-table")
                    and app.screen.query_one("#approvals-table", DataTable).row_count == 1)
        assert "token.redeem" in rows(app.screen.query_one("#approvals-table", DataTable))[0]
    with engine.begin() as conn:
        status = conn.execute(text("SELECT status FROM redemptions")).scalar_one()
    assert status == "pending_approval"
    assert token_row(engine, "status") == ("matured",)


async def test_trading_mode_to_otc_and_back_and_session_end(engine, platform, console_as,
                                                            chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 10})
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        detail = await open_token(pilot, app, "DATE")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        await pilot.press("down", "enter")  # fixed-price OTC: asks its price
        await until(pilot, lambda: isinstance(app.screen, FormModal))
        form = app.screen
        form.query_one("#field-price", Input).value = "11.25"
        await submit(pilot, form)
        await closed(pilot, app)
        await until(pilot, lambda: detail.view.token.trading_mode == "fixed_price_otc")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ChoiceModal))
        await pilot.press("enter")  # the order book: no more to ask
        await until(pilot, lambda: detail.view.token.trading_mode == "full_orderbook")
        form = await fill(pilot, app, "g", at="25:00")
        await until(pilot, lambda: "HH:MM" in problem(form))
        form.query_one("#field-at", Input).value = "16:30"
        await submit(pilot, form)
        await closed(pilot, app)
    assert token_row(engine, "otc_price, session_end::text") == (Decimal("11.25"), "16:30:00")
    assert sources(engine, "token.trading_mode") == ["console", "console"]
    assert sources(engine, "token.session_end") == ["console"]


async def test_protections_form_snapshot(platform, tmp_path, console_as, request) -> None:  # noqa: ANN001
    """The protections form over the token: each threshold's line, the defaults as placeholders."""
    import chain

    client = chain.connect(data_dir=tmp_path / "chain")  # its own EVM: the same addresses each run
    try:
        live_token(platform, client, "DATE", {"alice": 10})
    finally:
        client.close()
    app = AlefConsole(console_as("admin@x.io"), start="tokens")
    async with app.run_test(size=SIZE) as pilot:
        await open_token(pilot, app, "DATE")
        await open_form(pilot, app, "b")
        await assert_snapshot(pilot, "token_protections_form", request.config)
