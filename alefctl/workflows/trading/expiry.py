"""Running order lifetime: expiring due GTD and DAY orders and firing lapsed dead-man's switches.

`alefctl serve` does it every settings.lifetime.expiry_interval_s (server/lifetime_loop.py),
through its order writer; `alefctl order expire` does it without a server (through the same
OrderGroup code, holding the books' owner lock), and with one waits until the server has.
Each cancel is the service identity's, audited, its funds released (trading/ledger.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from alefctl.db.system_users import treasury_id
from alefctl.errors import AlefError
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.commands import CancelOrder
from alefctl.workflows.trading.control import (
    CANCEL_ONLY,
    await_finished,
    books_unowned,
    trader_open_order_ids,
)
from alefctl.workflows.trading.group import OrderGroup
from alefctl.workflows.trading.lifetime import (
    EXPIRED,
    SWITCH_LAPSED,
    disarm_fired,
    due_orders,
    lapsed_switches,
)
from alefctl.workflows.trading.state import MonotonicClock


@dataclass
class DueCancels:
    """What is due now: the cancels to run, and the switches they fire (to disarm after)."""

    commands: list[CancelOrder] = field(default_factory=list)
    switches: list[tuple[uuid.UUID, datetime]] = field(default_factory=list)

    @property
    def order_ids(self) -> list[uuid.UUID]:
        """The orders the cancels are for."""
        return [uuid.UUID(command.order_id) for command in self.commands]


def due_cancels(conn: Connection, operator: Actor, now: datetime) -> DueCancels:
    """The cancels due now, by the operator: orders past expire_at, then every open order of an
    investor whose switch lapsed (an order both expired and switched off expires)."""
    due = DueCancels([CancelOrder(operator, str(order_id), EXPIRED)
                      for order_id in due_orders(conn, now)])
    expiring = {command.order_id for command in due.commands}
    for user_id, deadline in lapsed_switches(conn, now):
        due.switches.append((user_id, deadline))
        due.commands += [CancelOrder(operator, str(order_id), SWITCH_LAPSED)
                         for order_id in trader_open_order_ids(conn, user_id)
                         if str(order_id) not in expiring]
    return due


def run_expiry(db: Engine, actor: Actor, *, wait_s: float = 10.0) -> dict[str, Any]:
    """Expire due orders and fire lapsed switches now (a cron job): directly when no server
    owns the books, else by waiting for the server's lifetime loop to do it."""
    policy.require(actor, "order.expire")
    from alefctl.workflows.service import service_actor

    done: list[dict[str, Any]] = []
    with books_unowned(db) as unowned, db.begin() as conn:
        due = due_cancels(conn, service_actor(conn), datetime.now(UTC))
        if unowned:
            done = _cancel_due(conn, due)
    if not unowned and due.commands:
        done = await_finished(db, due.order_ids, wait_s)
    return {"by_server": not unowned, "switches_fired": len(due.switches),
            "expired": sum(o["cancel_reason"] == EXPIRED for o in done),
            "switched_off": sum(o["cancel_reason"] == SWITCH_LAPSED for o in done)}


def _cancel_due(conn: Connection, due: DueCancels) -> list[dict[str, Any]]:
    """Run the due cancels in this transaction (no server owns the books) and disarm the
    switches they fire; the orders cancelled."""
    outcomes = []
    if due.commands:
        group = OrderGroup(conn, Books(), CANCEL_ONLY, treasury_id(conn), MonotonicClock())
        outcomes = [group.run(command) for command in due.commands]
        group.flush()
    for user_id, deadline in due.switches:
        disarm_fired(conn, user_id, deadline)
    return [o for o in outcomes if not isinstance(o, AlefError)]
