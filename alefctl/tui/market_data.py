"""A token's market as the database has it: depth ladder, last trades and open orders."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from alefctl.workflows import dashboard
from alefctl.workflows.orders import recent_trades
from alefctl.workflows.tokens import get_token, list_tokens
from alefctl.workflows.trading.books import load_book

if TYPE_CHECKING:
    from sqlalchemy import Connection

LADDER_LEVELS = 12
TRADES_SHOWN = 60


@dataclass(frozen=True)
class Level:
    """One aggregated price level of the ladder, in USD."""

    price: Decimal
    quantity: int
    orders: int


@dataclass(frozen=True)
class MarketView:
    """What the market screen shows of one token."""

    symbol: str
    status: str
    trading_mode: str
    bids: list[Level]
    asks: list[Level]
    last_price: Decimal | None
    trades: list[dict[str, Any]]
    orders: list[dict[str, Any]]

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid, when both sides have orders."""
        return self.asks[0].price - self.bids[0].price if self.bids and self.asks else None


def load_market(conn: Connection, symbol: str, with_orders: bool = True) -> MarketView:
    """The token's book rebuilt from committed orders (the server's group commits), its trades,
    and (for a role that may read other users' orders) every open order."""
    token = get_token(conn, symbol)
    book = load_book(conn, token.id)
    depth = book.depth(LADDER_LEVELS)
    tick = token.tick_size

    def levels(side: Any) -> list[Level]:
        return [Level(level.price * tick, level.quantity, level.order_count) for level in side]

    last = book.last_price
    return MarketView(token.symbol, token.status, token.trading_mode, levels(depth.bids),
                      levels(depth.asks), None if last is None else last * tick,
                      recent_trades(conn, token.id, TRADES_SHOWN),
                      dashboard.open_orders(conn, token.id) if with_orders else [])


def market_symbols(conn: Connection) -> list[str]:
    """Tokens with an order book (trading now, paused, or once traded), by symbol."""
    return [t.symbol for t in list_tokens(conn)
            if t.trading_mode == "full_orderbook" or t.status in ("secondary", "paused")]
