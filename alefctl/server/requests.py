"""Requests that reach the server from outside (control.py), turned into writer commands."""

from __future__ import annotations

from typing import Any

from alefctl.server.state import ServerState
from alefctl.workflows.closing import close_pending_otc_orders
from alefctl.workflows.halts import announcement, halts_in_force
from alefctl.workflows.service import service_actor
from alefctl.workflows.trading.amend_control import requested_amend
from alefctl.workflows.trading.commands import CancelOrder
from alefctl.workflows.trading.control import (
    closed_tokens_with_open_orders,
    ineligible_trader_ids,
    requested_cancels,
)
from alefctl.workflows.trading.frozen import HOLDER_FROZEN, frozen_sell_ids


def handle_request(state: ServerState, request: dict[str, Any]) -> None:
    """cancel: one order for its requester; token_closed: every open order of the token;
    trader_ineligible: every open order of a user who may no longer trade; amend: one order
    for its owner (`alefctl order amend`); halt and resume: an admin's, announced on the
    token's channels (the groups read the halt from the token row)."""
    if request.get("kind") == "amend":
        with state.db.begin() as conn:
            state.writer.submit(requested_amend(conn, request))
        return
    if request.get("kind") in ("halt", "resume"):
        with state.db.connect() as conn:
            message = announcement(conn, request)
        if message is not None:
            state.halts.announce(message)
        return
    with state.db.begin() as conn:
        orders = requested_cancels(conn, request)
    for actor, order_id in orders:
        state.writer.submit(CancelOrder(actor, order_id))


def close_orders_of_closed_tokens(state: ServerState) -> None:
    """At start: cancel orders and pending OTC orders left open on tokens that matured or were
    delisted meanwhile (workflows/closing.py)."""
    with state.db.begin() as conn:  # pending OTC orders: no book, closed right here
        close_pending_otc_orders(conn, service_actor(conn))
        token_ids = closed_tokens_with_open_orders(conn)
    for token_id in token_ids:
        handle_request(state, {"kind": "token_closed", "token_id": token_id})


def close_orders_of_ineligible_traders(state: ServerState) -> None:
    """At start: cancel orders left open by users who may no longer trade (deactivated, KYC
    revoked, FATCA-blocked) while no server ran, or before the cancel of that change finished;
    and the open sells of wallets frozen whole (holders/freezes.py), their tokens released."""
    with state.db.connect() as conn:
        user_ids = ineligible_trader_ids(conn)
        operator = service_actor(conn)
        frozen_sells = [CancelOrder(operator, str(order_id), HOLDER_FROZEN)
                        for order_id in frozen_sell_ids(conn)]  # of every token
    for user_id in user_ids:
        handle_request(state, {"kind": "trader_ineligible", "user_id": user_id})
    for cancel in frozen_sells:
        state.writer.submit(cancel)


def announce_halts_in_force(state: ServerState) -> None:
    """At start: the halts in force (a breaker's trip or an admin's halt from before a restart),
    so that their end is announced when it comes."""
    with state.db.connect() as conn:
        messages = halts_in_force(conn)
    for message in messages:
        state.halts.announce(message)
