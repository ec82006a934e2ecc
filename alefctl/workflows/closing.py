"""Closing a token's market for good (matured or delisted): the one place every path goes.

Whoever matures or delists a token (`token mature`/`delist`, `token mature-due`, the console's
keys, the admin HTTP route, `alefctl serve` at start) calls `close_market` after the status
change committed: the token's open orders and pending stops are cancelled (through the running
server's writer when one owns the books) and its pending OTC orders are cancelled, so every
owner's locked money and tokens come back. Safe to run again: nothing left open, nothing done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.workflows.actor import Actor
from alefctl.workflows.otc import close_token_otc_orders
from alefctl.workflows.trading.control import CLOSED_STATUSES, close_token_orders
from alefctl.workflows.trading.funds import NotionalLimits


@dataclass
class ClosedMarket:
    """What closing one token's market cancelled."""

    token_id: uuid.UUID
    orders: list[dict[str, Any]] = field(default_factory=list)
    otc_order_ids: list[uuid.UUID] = field(default_factory=list)


def close_market(db: Engine, actor: Actor, token_id: uuid.UUID,
                 limits: NotionalLimits) -> ClosedMarket:
    """Cancel a closed token's pending OTC orders (one transaction) and its open orders."""
    with db.begin() as conn:
        status = conn.execute(text("SELECT status FROM tokens WHERE id = :t FOR UPDATE"),
                              {"t": token_id}).scalar_one()
        otc_ids = close_token_otc_orders(conn, actor, token_id, f"the token is {status}")
    orders = close_token_orders(db, actor, token_id, limits)
    return ClosedMarket(token_id, orders, otc_ids)


def close_pending_otc_orders(conn: Connection, actor: Actor) -> list[uuid.UUID]:
    """Pending OTC orders of every closed token cancelled (the server's start, for a token
    closed while its close did not finish); their ids."""
    closed = conn.execute(text(
        "SELECT DISTINCT o.token_id, t.status FROM otc_orders o JOIN tokens t ON t.id = o.token_id"
        " WHERE o.status = 'pending' AND t.status = ANY(:closed)"),
        {"closed": list(CLOSED_STATUSES)}).all()
    return [otc_id for row in closed
            for otc_id in close_token_otc_orders(conn, actor, row.token_id,
                                                 f"the token is {row.status}")]
