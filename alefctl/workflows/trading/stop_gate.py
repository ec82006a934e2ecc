"""The check of a stop when it triggers (engine: OrderBook.stop_gate), set by the order group
around each submit: a stop placed long ago runs only if its owner may still trade and the
market's protections, as the triggering trades left them, let it through; else it is cancelled
with the reason, its locks released like any cancel's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from alefctl.errors import AlefError
from alefctl.workflows.trading import funds
from alefctl.workflows.trading.guards import MarketGuards

OWNER_INELIGIBLE = "owner_ineligible"  # the cancel_reason of a stop whose owner may not trade

Gate = Callable[[Any, Any, int | None, list[tuple]], str | None]


def stop_gate(conn: Connection, traders: dict[uuid.UUID, Any], guards: MarketGuards,
              token_id: uuid.UUID, book: Any, nav: int | None, now: float) -> Gate:
    """The gate for one submit to a token's book (`traders`: the rows the group locked)."""
    def gate(order_id: Any, user_id: Any, price: int | None, events: list[tuple]) -> str | None:
        if not may_trade(conn, traders.get(user_id), user_id):
            return OWNER_INELIGIBLE
        return guards.refusal_at_trigger(token_id, price, book.last_price, nav, now, events)
    return gate


def may_trade(conn: Connection, locked_row: Any, user_id: uuid.UUID) -> bool:
    """Whether a user may trade now (funds.check_trader): from the row the group locked, or,
    for a stop's owner it did not lock, as committed."""
    trader = locked_row or conn.execute(funds.TRADER_BY_ID, {"id": user_id}).one()
    try:
        funds.check_trader(trader)
    except AlefError:
        return False
    return True
