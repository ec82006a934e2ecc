"""Market: admin cancel of an open order; OTC approvals: approve and reject."""

from __future__ import annotations

from decimal import Decimal

import pytest
from platform_builders import live_token
from sqlalchemy import text
from textual.widgets import DataTable, Select
from tui_helpers import SIZE, until

from alefctl.db.system_users import treasury_id
from alefctl.tui.app import AlefConsole
from alefctl.tui.modals import ConfirmModal, TextModal
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.otc import set_trading_mode
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup, PlaceOrder
from alefctl.workflows.trading.state import MonotonicClock

pytestmark = pytest.mark.asyncio
LIMITS = NotionalLimits(Decimal(500), Decimal(5000), Decimal(50000))


def placed(platform, who: str, side: str, quantity: int, price: str) -> dict:  # noqa: ANN001
    """An order placed through the order group, as a (now stopped) server would have."""
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(), LIMITS, treasury_id(conn), MonotonicClock())
        outcome = group.run(PlaceOrder(platform.actor(f"{who}@x.io"),
                                       OrderRequest("DATE", side, "limit", quantity, Decimal(price))))
        group.flush()
    assert isinstance(outcome, dict), outcome
    return outcome


async def test_admin_cancels_an_open_order(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 50})
    order = placed(platform, "alice", "sell", 7, "12.00")
    app = AlefConsole(console_as("admin@x.io"), start="market")
    app.market_symbol = "DATE"
    async with app.run_test(size=SIZE) as pilot:
        orders = app.screen.query_one("#orders", DataTable)
        await until(pilot, lambda: orders.row_count == 1)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: orders.row_count == 0)
    with engine.connect() as conn:
        status, locked = conn.execute(text(
            "SELECT o.status, w.locked_balance FROM orders o JOIN wallets w ON w.user_id = o.user_id"
            " AND w.token_id = o.token_id WHERE o.id = :id"), {"id": order["id"]}).one()
    assert (status, locked) == ("cancelled", 0)


async def test_otc_orders_are_approved_and_rejected(engine, platform, chain_client, console_as) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 50, "bob": 50})
    with engine.begin() as conn:
        set_trading_mode(conn, platform.admin, "DATE", "fixed_price_otc", "10.00")
    first = placed(platform, "alice", "sell", 5, "10.00")
    second = placed(platform, "bob", "sell", 3, "10.00")
    with engine.begin() as conn:  # the treasury buys from sellers: give it the money
        conn.execute(text("UPDATE users SET fiat_balance = fiat_balance + 1000.00"
                          " WHERE email = 'treasury@system.alefctl'"))
    app = AlefConsole(console_as("admin@x.io"), start="otc")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#otc-table", DataTable)
        await until(pilot, lambda: table.row_count == 2)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        await pilot.press(*"price moved", "enter")
        await until(pilot, lambda: table.row_count == 0)
    with engine.connect() as conn:
        states = dict(conn.execute(text("SELECT id, status FROM otc_orders")).all())
        sources = set(conn.execute(text("SELECT source FROM audit_logs WHERE action LIKE 'otc.%'"))
                      .scalars())
    assert {str(k): v for k, v in states.items()} == {
        str(first["id"]): "executed", str(second["id"]): "rejected"}
    assert sources == {"console"}


async def test_after_picking_a_token_x_cancels_the_highlighted_order(engine, platform, chain_client,  # noqa: ANN001
                                                                    console_as) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 50, "bob": 50})
    first = placed(platform, "alice", "sell", 7, "12.00")
    second = placed(platform, "bob", "sell", 3, "12.50")
    app = AlefConsole(console_as("admin@x.io"), start="market")
    async with app.run_test(size=SIZE) as pilot:
        picker = app.screen.query_one("#market-token", Select)
        orders = app.screen.query_one("#orders", DataTable)
        await until(pilot, lambda: picker.has_focus and len(picker._options) > 1)
        picker.value = "DATE"  # what picking it from the list does
        await until(pilot, lambda: orders.row_count == 2)
        assert orders.has_focus  # the keys now act on the orders, not on the picker
        app.screen.query_one("#trades", DataTable).focus()
        await pilot.press("x")  # from another table: no dialog, the orders get the focus
        await until(pilot, lambda: orders.has_focus
                    and any("then press x again" in n.message for n in app._notifications))
        await pilot.press("down", "x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert app.screen.question.startswith("Cancel bob@x.io's sell of 3 DATE at 12.50 USD (order")
        await pilot.press("y")
        await until(pilot, lambda: orders.row_count == 1)
    with engine.connect() as conn:
        states = dict(conn.execute(text("SELECT id::text, status FROM orders")).all())
    assert states == {str(first["id"]): "open", str(second["id"]): "cancelled"}
