"""Investment limits that protect investors: at most the limit of one's accreditation level
(settings.trading.limit_*_usd) invested per rolling 12 months, summed over primary
subscriptions, buy trades, the money locked in open buy orders and OTC buys. Sells are never
capped. The order path reads every buyer's sum in the group's one round trip and keeps a running
sum in memory (trading/group.py); subscriptions read it with one query.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict
from alefctl.money import format_usd
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

WINDOW = timedelta(days=365)
# What each investor in :ids invested since :since (subscriptions not rejected or refunded,
# buy trades (an executed OTC buy is one of them), money still locked in open buy orders, OTC
# buys not yet executed).
INVESTED = text(
    "SELECT u.id AS user_id,"
    " (SELECT coalesce(sum(amount), 0) FROM token_allocations WHERE user_id = u.id"
    "   AND allocation_type = 'primary' AND status IN ('pending_payment', 'confirmed')"
    "   AND created_at > :since)"
    " + (SELECT coalesce(sum(total), 0) FROM trades WHERE buyer_id = u.id AND created_at > :since)"
    " + (SELECT coalesce(sum(locked_fiat), 0) FROM orders WHERE user_id = u.id AND side = 'buy'"
    f"   AND status IN {OPEN_STATUSES_SQL})"
    " + (SELECT coalesce(sum(total), 0) FROM otc_orders WHERE user_id = u.id AND side = 'buy'"
    "   AND status IN ('pending', 'approved') AND created_at > :since) AS invested"
    " FROM users u WHERE u.id = ANY(:ids)")


def invested_params(user_ids: list[uuid.UUID], now: datetime) -> dict[str, Any]:
    """Parameters of INVESTED for these investors at this instant."""
    return {"ids": user_ids, "since": now - WINDOW}


def invested(conn: Connection, user_id: uuid.UUID, now: datetime) -> Decimal:
    """What one investor invested in the last 12 months (one query)."""
    row = conn.execute(INVESTED, invested_params([user_id], now)).first()
    return Decimal(0) if row is None else row.invested


def room_left(limit: Decimal, invested_so_far: Decimal) -> Decimal:
    """What the investor may still invest in the window (never negative)."""
    return max(limit - invested_so_far, Decimal("0.00"))


def check_room(accreditation: str | None, limit: Decimal, invested_so_far: Decimal,
               amount: Decimal) -> None:
    """Refuse an investment that would pass the investor's 12-month limit, saying the room left."""
    if invested_so_far + amount > limit:
        raise Conflict(
            f"investing {format_usd(amount)} USD would pass the {accreditation or 'retail'}"
            f" limit of {format_usd(limit)} USD per 12 months; room left"
            f" {format_usd(room_left(limit, invested_so_far))} USD", code="investment_limit")
