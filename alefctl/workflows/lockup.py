"""Lock-up of team and reserve tokens: until the token's lockup_until, the quantity a holder
received as a team or reserve allocation cannot be sold (the order path and OTC refuse it) or
transferred out (any holder transfer or withdrawal asks `check_lockup`). Cheap for the order
path: only a token with a lock-up still running reads its holder's locked quantity.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, text

from alefctl.errors import Conflict

LOCKED = text(
    "SELECT coalesce(sum(quantity), 0) FROM token_allocations WHERE user_id = :u"
    " AND token_id = :t AND allocation_type IN ('team', 'reserve') AND status = 'confirmed'")


def check_lockup(conn: Connection, user_id: uuid.UUID, token_id: uuid.UUID, symbol: str,
                 lockup_until: datetime | None, free: int, quantity: int, now: datetime) -> None:
    """Refuse selling or moving `quantity` of `free` tokens if it would touch locked-up ones."""
    if lockup_until is None or now >= lockup_until:
        return
    locked = conn.execute(LOCKED, {"u": user_id, "t": token_id}).scalar_one()
    if locked and quantity > free - locked:
        raise Conflict(f"{locked} of your {symbol} tokens are locked up until"
                       f" {lockup_until.isoformat()}; you may sell or move"
                       f" {max(free - locked, 0)}", code="locked_up")
