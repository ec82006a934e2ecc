"""Requests that reach the server from outside (control.py), turned into writer commands."""

from __future__ import annotations

from typing import Any

from alefctl.server.state import ServerState
from alefctl.workflows.trading.control import closed_tokens_with_open_orders, requested_cancels
from alefctl.workflows.trading.group import CancelOrder


def handle_request(state: ServerState, request: dict[str, Any]) -> None:
    """cancel: one order for its requester; token_closed: every open order of the token."""
    with state.db.begin() as conn:
        orders = requested_cancels(conn, request)
    for actor, order_id in orders:
        state.writer.submit(CancelOrder(actor, order_id))


def close_orders_of_closed_tokens(state: ServerState) -> None:
    """At start: cancel orders left open on tokens that matured or were delisted meanwhile."""
    with state.db.connect() as conn:
        token_ids = closed_tokens_with_open_orders(conn)
    for token_id in token_ids:
        handle_request(state, {"kind": "token_closed", "token_id": token_id})
