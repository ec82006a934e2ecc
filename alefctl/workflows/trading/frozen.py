"""Sell orders of frozen wallets never fill (holders/freezes.py).

A whole-wallet freeze commits first and cancels the holder's open sells after, through the owner
of the books: a crash in between, or a group that runs before the cancel arrives, would find
those sells still resting, and a fill's settlement would then revert on-chain. So before a
group first submits to a token's book, it cancels (reason `holder_frozen`) the open sells of
frozen wallets of that token. The freeze locks the token row as the group does, so every freeze
is either visible to this read or waits for the group's commit (and then cancels the sells
itself). A server's start cancels them too, so that their tokens come back (server/requests.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text

from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

if TYPE_CHECKING:
    from alefctl.workflows.trading.group import OrderGroup
    from alefctl.workflows.trading.market import Market

HOLDER_FROZEN = "holder_frozen"  # the cancel_reason of such a sell
FROZEN_SELLS = text(
    "SELECT o.id FROM orders o JOIN wallets w ON w.user_id = o.user_id AND w.token_id ="
    f" o.token_id WHERE w.is_frozen AND o.side = 'sell' AND o.status IN {OPEN_STATUSES_SQL}"
    " AND (CAST(:t AS uuid) IS NULL OR o.token_id = :t) ORDER BY o.engine_seq, o.created_at")


def frozen_sell_ids(conn: Connection, token_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Open sell orders of frozen wallets (of one token, if given), as committed."""
    return list(conn.execute(FROZEN_SELLS, {"t": token_id}).scalars())


def cancel_frozen_sells(group: OrderGroup, market: Market) -> None:
    """Cancel in the group the open sells of the token's frozen wallets, before it matches."""
    for order_id in frozen_sell_ids(group.conn, market.id):
        order = group.order(order_id)
        if order is not None and not order.is_finished:
            group.cancel_in_book(market, order, HOLDER_FROZEN)
