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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.workflows.trading.funds import TOKENS_BY_REF
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL

if TYPE_CHECKING:
    from alefctl.workflows.trading.group import OrderGroup
    from alefctl.workflows.trading.market import Market

HOLDER_FROZEN = "holder_frozen"  # the cancel_reason of such a sell
_FROZEN_SELLS = (
    "SELECT o.token_id, o.id FROM orders o JOIN wallets w ON w.user_id = o.user_id AND"
    f" w.token_id = o.token_id WHERE w.is_frozen AND o.side = 'sell' AND o.status IN"
    f" {OPEN_STATUSES_SQL} AND {{tokens}} ORDER BY o.engine_seq, o.created_at")
FROZEN_SELLS = text(_FROZEN_SELLS.format(
    tokens="(CAST(:tokens AS uuid[]) IS NULL OR o.token_id = ANY(:tokens))"))
# read in the group's first round trip, right after its tokens are locked (trading/group.py)
FROZEN_SELLS_BY_TOKEN_REF = text(_FROZEN_SELLS.format(
    tokens=f"o.token_id IN (SELECT id FROM tokens WHERE {TOKENS_BY_REF})"))


def frozen_sell_ids(conn: Connection, token_ids: list[uuid.UUID] | None = None
                    ) -> list[uuid.UUID]:
    """Open sell orders of frozen wallets (of these tokens, or all), as committed."""
    return [row.id for row in conn.execute(FROZEN_SELLS, {"tokens": token_ids})]


def by_token(rows: Any) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Rows of FROZEN_SELLS_BY_TOKEN_REF: the order ids per token."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for row in rows:
        found.setdefault(row.token_id, []).append(row.id)
    return found


def cancel_frozen_sells(group: OrderGroup, market: Market) -> None:
    """Cancel in the group the open sells of the token's frozen wallets, before it first matches
    on the token (as the group's first round trip found them, else read now)."""
    if market.id in group.frozen_swept:
        return
    group.frozen_swept.add(market.id)  # once per token and group: its row stays locked
    order_ids = group.frozen_sells.pop(market.id, None)
    if order_ids is None:
        order_ids = frozen_sell_ids(group.conn, [market.id])
    for order_id in order_ids:
        order = group.order(order_id)
        if order is not None and not order.is_finished:
            group.cancel_in_book(market, order, HOLDER_FROZEN)
