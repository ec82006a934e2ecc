"""Amending an order from a command (`alefctl order amend`), with or without a running server.

Without a server the amend runs directly through the same OrderGroup code, holding the books'
owner lock (trading/control.py). With one, it is first run in a transaction that is rolled back
(so a refusal is the command's answer, as over HTTP), then sent to the server on the trading
channel, and the command waits until the order shows the change.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db.system_users import treasury_id
from alefctl.errors import AlefError, Unavailable
from alefctl.workflows import policy
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.commands import AmendOrder
from alefctl.workflows.trading.control import books_unowned, notify
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup
from alefctl.workflows.trading.state import MonotonicClock


def amend_order(db: Engine, command: AmendOrder, limits: NotionalLimits,
                wait_s: float = 5.0) -> dict[str, Any]:
    """Amend an open order of the acting investor; the order as it is now."""
    policy.require(command.actor, "order.amend")
    with books_unowned(db) as unowned, db.connect() as conn:
        with conn.begin() as transaction:
            amended = _run(conn, command, limits)
            if not unowned:  # the server amends it: this run only checked the command
                transaction.rollback()
        if not unowned:
            with conn.begin():
                notify(conn, amend_request(command))
    return amended if unowned else _await_amended(db, amended, wait_s)


def amend_request(command: AmendOrder) -> dict[str, Any]:
    """The request the server's listener turns back into the command (requested_amend)."""
    return {"kind": "amend", "order_id": command.order_id, "actor_id": command.actor.user_id,
            "quantity": command.quantity, "price": command.price,
            "confirm_fat_finger": command.confirm_fat_finger,
            "confirm_nav_deviation": command.confirm_nav_deviation}


def requested_amend(conn: Connection, request: dict[str, Any]) -> AmendOrder:
    """The command of an amend request sent by amend_order."""
    from alefctl.workflows.actor import resolve_actor

    email = conn.execute(text("SELECT email FROM users WHERE id = :u"),
                         {"u": request["actor_id"]}).scalar_one()
    price = request["price"]
    return AmendOrder(resolve_actor(conn, email, "cli"), str(request["order_id"]),
                      request["quantity"], None if price is None else Decimal(str(price)),
                      bool(request["confirm_fat_finger"]), bool(request["confirm_nav_deviation"]))


def _run(conn: Connection, command: AmendOrder, limits: NotionalLimits) -> dict[str, Any]:
    group = OrderGroup(conn, Books(), limits, treasury_id(conn), MonotonicClock())
    outcome = group.run(command)
    if isinstance(outcome, AlefError):
        raise outcome
    group.flush()
    return outcome


def _await_amended(db: Engine, expected: dict[str, Any], wait_s: float) -> dict[str, Any]:
    """The order once the server has amended it as the check run did."""
    from alefctl.workflows.orders import get_order

    deadline = time.monotonic() + wait_s
    while True:
        with db.connect() as conn:
            order = get_order(conn, str(expected["id"]), owner=uuid.UUID(str(expected["user_id"])))
        if (order["quantity"], order["price"]) == (expected["quantity"], expected["price"]) \
                or order["status"] != expected["status"] and order["status"] in ("filled",
                                                                                  "cancelled"):
            return order
        if time.monotonic() > deadline:
            raise Unavailable("the running server did not confirm the amend in time;"
                              " check `alefctl order show` again shortly")
        time.sleep(0.1)
