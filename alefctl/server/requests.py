"""Requests that reach the server from outside (control.py), turned into writer commands."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from alefctl.server.state import ServerState
from alefctl.workflows.actor import resolve_actor
from alefctl.workflows.trading.control import CLOSED_STATUSES, open_order_ids
from alefctl.workflows.trading.group import CancelOrder
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL


def handle_request(state: ServerState, request: dict[str, Any]) -> None:
    """cancel: one order for its requester; token_closed: every open order of the token."""
    with state.db.begin() as conn:
        if request.get("kind") == "cancel":
            email = conn.execute(text("SELECT email FROM users WHERE id = :u"),
                                 {"u": request["actor_id"]}).scalar_one()
            orders = [(resolve_actor(conn, email, "cli"), str(request["order_id"]))]
        elif request.get("kind") == "token_closed":
            operator = resolve_actor(conn, None, "worker")
            orders = [(operator, str(order_id))
                      for order_id in open_order_ids(conn, request["token_id"])]
        else:
            return
    for actor, order_id in orders:
        state.writer.submit(CancelOrder(actor, order_id))


def close_orders_of_closed_tokens(state: ServerState) -> None:
    """At start: cancel orders left open on tokens that matured or were delisted meanwhile."""
    with state.db.connect() as conn:
        token_ids = conn.execute(text(
            "SELECT DISTINCT o.token_id FROM orders o JOIN tokens t ON t.id = o.token_id WHERE"
            f" t.status = ANY(:closed) AND o.status IN {OPEN_STATUSES_SQL}"),
            {"closed": list(CLOSED_STATUSES)}).scalars().all()
    for token_id in token_ids:
        handle_request(state, {"kind": "token_closed", "token_id": token_id})
