"""A token row as an order group locks it, and whether it trades on the order book."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import text

from alefctl.errors import Conflict
from alefctl.workflows.protections import TOKEN_COLUMNS as THRESHOLD_COLUMNS
from alefctl.workflows.trading import funds


@dataclass(frozen=True)
class Market:
    """A token row as locked for the group."""

    id: uuid.UUID
    symbol: str
    status: str
    trading_mode: str
    tick_size: Decimal
    fee_bps: int
    nav_per_token: Decimal | None
    lockup_until: datetime | None
    session_end: time | None  # when DAY orders expire (UTC); None: settings.lifetime
    # its protection thresholds (None: the platform's; workflows/protections.py) and its halt
    breaker_move_pct: Decimal | None
    breaker_window_s: int | None
    breaker_halt_s: int | None
    fat_finger_pct: Decimal | None
    nav_deviation_pct: Decimal | None
    halted_at: datetime | None
    halted_until: datetime | None
    halt_reason: str | None


LOCK_MARKETS = text(
    "SELECT id, symbol, status, trading_mode, tick_size, fee_bps, nav_per_token, lockup_until,"
    " session_end,"
    f" {THRESHOLD_COLUMNS}, halted_at, halted_until, halt_reason FROM tokens"
    f" WHERE {funds.TOKENS_BY_REF} ORDER BY id FOR UPDATE")


def refuse_not_trading(market: Market, *, otc_allowed: bool) -> None:
    """Refuse an order to a token not trading on the order book (with `otc_allowed`, a token
    sold at a fixed price over the counter is accepted too)."""
    if market.trading_mode == "primary_subscription":
        raise Conflict(f"{market.symbol} is in its primary offering: subscribe instead")
    if otc_allowed and market.trading_mode == "fixed_price_otc" and market.status == "secondary":
        return
    if market.trading_mode != "full_orderbook" or market.status != "secondary":
        raise Conflict(f"{market.symbol} is not trading on the order book"
                       f" (status {market.status}, mode {market.trading_mode})")
