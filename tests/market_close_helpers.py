"""An OTC token with pending OTC orders, placed through the workflow (no server needed)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from settlement_helpers import LIMITS, minted_token
from sqlalchemy import text

from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.otc import place_otc_order, set_trading_mode
from alefctl.workflows.tokens import get_token


def otc_with_pending(platform: Any, client: Any, symbol: str = "OTC") -> dict[str, Any]:
    """symbol trading OTC at $10 (alice holds 100); carol's buy of 3 and alice's sell of 2 wait
    for an admin. Returns the funds they locked and their free balances before."""
    minted_token(platform, client, symbol, {"alice": 100}, buyers=("carol",))
    before = free_funds(platform, symbol)
    with platform.engine.begin() as conn:
        set_trading_mode(conn, platform.admin, symbol, "fixed_price_otc", "10.00")
        token = get_token(conn, symbol)
        buy = place_otc_order(conn, platform.actor("carol@x.io"), token,
                              OrderRequest(symbol, "buy", "limit", 3, Decimal("10.00")), LIMITS)
        sell = place_otc_order(conn, platform.actor("alice@x.io"), token,
                               OrderRequest(symbol, "sell", "limit", 2, Decimal("10.00")), LIMITS)
    assert free_funds(platform, symbol) != before
    return {"before": before, "ids": [str(buy["id"]), str(sell["id"])]}


def free_funds(platform: Any, symbol: str) -> tuple[Decimal, int]:
    """carol's free fiat and alice's locked tokens of symbol."""
    with platform.engine.connect() as conn:
        fiat = conn.execute(text("SELECT fiat_balance FROM users WHERE email = 'carol@x.io'")
                            ).scalar_one()
        locked = conn.execute(text(
            "SELECT w.locked_balance FROM wallets w JOIN users u ON u.id = w.user_id JOIN tokens t"
            " ON t.id = w.token_id WHERE u.email = 'alice@x.io' AND t.symbol = :s"),
            {"s": symbol}).scalar_one()
    return fiat, locked


def otc_statuses(platform: Any) -> dict[str, str]:
    """Each OTC order's status and reason."""
    with platform.engine.connect() as conn:
        return {str(row.id): f"{row.status}: {row.rejection_reason}" for row in conn.execute(
            text("SELECT id, status, rejection_reason FROM otc_orders"))}
