"""Sale proceeds held until settlement: the one rule for how much fiat may leave the platform.

A sale credits its proceeds at once, so they can be traded with at once; but until the trade has
settled on-chain the buyer may still never get the tokens, so the proceeds (total less the
platform fee) of the seller's trades that are not `settled` (pending, processing, or failed: a
failed settlement holds them until an admin retries it or settles it off-chain) cannot be
withdrawn as fiat. Both withdrawal paths (the investor's request, an admin's `wallet withdraw`)
and the account overview use this; `check` has the invariant `withdrawals_exclude_unsettled_sales`.
Trades are in USD, so a stablecoin (USDC) balance holds nothing back: all of it that is free may
leave.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import Connection, text

from alefctl.workflows.money import free_balance

# the seller's held proceeds, as a scalar subquery over :u
HELD_PROCEEDS_SQL = ("(SELECT coalesce(sum(total - platform_fee), 0.00) FROM trades"
                     " WHERE seller_id = :u AND settlement_status <> 'settled')")


def held_proceeds(conn: Connection, user_id: uuid.UUID) -> Decimal:
    """Proceeds of the user's sales not settled on-chain yet (USD)."""
    return Decimal(conn.execute(text(f"SELECT {HELD_PROCEEDS_SQL}"), {"u": user_id}).scalar_one())


def withdrawable(conn: Connection, user_id: uuid.UUID, fiat_balance: Decimal) -> Decimal:
    """What may leave as fiat now: the free balance less held proceeds, never below zero."""
    return max(fiat_balance - held_proceeds(conn, user_id), Decimal("0.00"))


def withdrawable_in(conn: Connection, user_id: uuid.UUID, currency: str) -> Decimal:
    """What may leave in this currency now: USD less held proceeds; a stablecoin's free balance
    (no trade pays proceeds in it)."""
    balance = free_balance(conn, user_id, currency)
    return withdrawable(conn, user_id, balance) if currency == "USD" else balance
