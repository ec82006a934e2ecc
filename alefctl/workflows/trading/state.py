"""An order's state while its group is processed: new orders are inserted with their final
state at the end of the group, existing ones updated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.workflows.trading.vocabulary import FINISHED_STATUSES

LOAD_COLUMNS = (
    "id, user_id, token_id, client_order_id, side, order_type, time_in_force, stp_mode, price,"
    " stop_price, quantity, filled_quantity, locked_fiat, locked_quantity, status, cancel_reason,"
    " engine_seq, created_at, expire_at"
)


@dataclass
class OrderState:
    """One order as the group sees it."""

    id: uuid.UUID
    user_id: uuid.UUID
    token_id: uuid.UUID
    side: str
    order_type: str
    quantity: int
    price: Decimal | None
    stop_price: Decimal | None
    time_in_force: str
    stp_mode: str
    client_order_id: str | None
    created_at: datetime
    status: str
    filled_quantity: int = 0
    locked_fiat: Decimal = Decimal("0.00")
    locked_quantity: int = 0
    cancel_reason: str | None = None
    engine_seq: int | None = None  # book priority: when it was accepted, or its stop triggered
    expire_at: datetime | None = None  # GTD and DAY orders: when they expire
    is_new: bool = False
    trades: list[dict[str, Any]] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        """Quantity not yet filled."""
        return self.quantity - self.filled_quantity

    @property
    def is_finished(self) -> bool:
        """Filled or cancelled: nothing of it rests or waits any more."""
        return self.status in FINISHED_STATUSES

    def mark_committed(self) -> None:
        """Its group committed: it is no longer new, and the fills of later requests start in a
        new list (the outcomes sent back keep theirs)."""
        self.is_new = False
        self.trades = []

    def row(self) -> dict[str, Any]:
        """Values for INSERT or UPDATE of the orders table."""
        return {
            "id": self.id, "user_id": self.user_id, "token_id": self.token_id,
            "client_order_id": self.client_order_id, "side": self.side,
            "order_type": self.order_type, "time_in_force": self.time_in_force,
            "stp_mode": self.stp_mode, "price": self.price, "stop_price": self.stop_price,
            "quantity": self.quantity, "filled_quantity": self.filled_quantity,
            "locked_fiat": self.locked_fiat, "locked_quantity": self.locked_quantity,
            "status": self.status, "cancel_reason": self.cancel_reason,
            "engine_seq": self.engine_seq, "created_at": self.created_at,
            "expire_at": self.expire_at,
        }

    def public(self, symbol: str) -> dict[str, Any]:
        """What the investor sees of the order, with its fills in this request."""
        data = self.row()
        data.update(symbol=symbol, remaining_quantity=self.remaining, trades=self.trades)
        return data


LOCK_ORDERS = text(f"SELECT {LOAD_COLUMNS} FROM orders WHERE id = ANY(:ids) ORDER BY id FOR UPDATE")


def load_orders(conn: Connection, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, OrderState]:
    """Existing orders by id, row-locked for the group."""
    return order_states(conn.execute(LOCK_ORDERS, {"ids": order_ids}))


def order_states(rows: Any) -> dict[uuid.UUID, OrderState]:
    """Orders by id from rows of LOCK_ORDERS."""
    return {row.id: OrderState(**row._asdict()) for row in rows}


class MonotonicClock:
    """UTC timestamps that strictly increase, so created_at never ties within a process."""

    def __init__(self) -> None:
        self.last = datetime.now(UTC)

    def __call__(self) -> datetime:
        now = datetime.now(UTC)
        self.last = now if now > self.last else self.last + timedelta(microseconds=1)
        return self.last
