"""The commands an order group runs (group.py): place (place.py), cancel, amend (amend.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alefctl.errors import AlefError
from alefctl.workflows.actor import Actor
from alefctl.workflows.orders import OrderRequest


@dataclass(frozen=True)
class PlaceOrder:
    """An investor's new order."""

    actor: Actor
    request: OrderRequest


@dataclass(frozen=True)
class CancelOrder:
    """Cancel an order: its owner, or an admin (the server: when it expires, or its owner's
    dead-man's switch lapses, with that reason)."""

    actor: Actor
    order_id: str
    reason: str = "user"


@dataclass(frozen=True)
class AmendOrder:
    """Change an open order's quantity (down) or price, or both."""

    actor: Actor
    order_id: str
    quantity: int | None = None  # the new total quantity, filled part included
    price: Decimal | None = None
    confirm_fat_finger: bool = False
    confirm_nav_deviation: bool = False


Command = PlaceOrder | CancelOrder | AmendOrder
Outcome = dict[str, Any] | AlefError


def parse_order_id(text_id: str) -> uuid.UUID | None:
    """An order id as given by a caller, or None if it cannot be one."""
    try:
        return uuid.UUID(text_id)
    except ValueError:
        return None
