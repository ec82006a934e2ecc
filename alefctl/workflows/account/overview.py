"""An investor's account at a glance: profile, balances and holdings (the caller's own)."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.proceeds import HELD_PROCEEDS_SQL
from alefctl.workflows.reconcile_db import ITEMS_SQL, Holder, Item
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL
from alefctl.workflows.users import get_user

AVERAGE_COST_PLACES = Decimal("0.0001")  # average cost per token, rounded half-even
PROFILE_FIELDS = ("id", "email", "full_name", "role", "country", "is_activated", "kyc_status",
                  "kyc_level", "accreditation_status", "fatca_status", "wallet_address",
                  "created_at")

_FIAT_SQL = text(
    "SELECT u.fiat_balance AS available,"
    f" (SELECT coalesce(sum(locked_fiat), 0.00) FROM orders WHERE user_id = :u"
    f" AND status IN {OPEN_STATUSES_SQL}) AS locked_in_orders,"
    " (SELECT coalesce(sum(locked_fiat), 0.00) FROM otc_orders WHERE user_id = :u"
    " AND status = 'pending') AS locked_in_otc_orders,"
    " (SELECT coalesce(-sum(amount), 0.00) FROM wallet_transactions WHERE user_id = :u"
    " AND currency = 'USD' AND type = 'token_buy' AND status = 'pending')"
    " AS in_pending_subscriptions,"
    " (SELECT coalesce(-sum(amount), 0.00) FROM wallet_transactions WHERE user_id = :u"
    " AND currency = 'USD' AND type = 'withdrawal' AND status = 'pending')"
    " AS in_pending_withdrawals,"
    f" {HELD_PROCEEDS_SQL} AS held_until_settlement"
    " FROM users u WHERE u.id = :u")
_POSITIONS_SQL = text(
    "SELECT w.token_id, t.symbol, w.balance, w.locked_balance, w.frozen_quantity, w.is_frozen,"
    " t.price_per_token,"
    " (SELECT price FROM trades WHERE token_id = w.token_id ORDER BY created_at DESC, id DESC"
    " LIMIT 1) AS last_price,"
    " (SELECT sum(cost) FROM (SELECT amount AS cost FROM token_allocations WHERE user_id = :u"
    " AND token_id = w.token_id AND status = 'confirmed' UNION ALL SELECT total FROM trades"
    " WHERE buyer_id = :u AND token_id = w.token_id) c) AS bought_cost,"
    " (SELECT sum(qty) FROM (SELECT quantity AS qty FROM token_allocations WHERE user_id = :u"
    " AND token_id = w.token_id AND status = 'confirmed' UNION ALL SELECT quantity FROM trades"
    " WHERE buyer_id = :u AND token_id = w.token_id) q) AS bought_quantity"
    " FROM wallets w JOIN tokens t ON t.id = w.token_id"
    " WHERE w.user_id = :u AND (w.balance > 0 OR w.locked_balance > 0) ORDER BY t.symbol")
_USER_ITEMS_SQL = text(f"SELECT kind, status, items, delta FROM ({ITEMS_SQL.text}) i"
                       " WHERE user_id = :u")


def profile(conn: Connection, actor: Actor) -> dict[str, Any]:
    """The caller's profile: KYC status and level, accreditation, FATCA, wallet address."""
    policy.require(actor, "account.read")
    user = get_user(conn, str(actor.user_id)).to_dict()
    return {name: user[name] for name in PROFILE_FIELDS}


def balances(conn: Connection, actor: Actor) -> dict[str, Any]:
    """Fiat available and locked (orders, OTC orders, pending subscriptions), proceeds held
    until their trade settles (part of available), and stablecoin balances."""
    policy.require(actor, "account.read")
    return user_balances(conn, actor.user_id)


def user_balances(conn: Connection, user_id: uuid.UUID) -> dict[str, Any]:
    """A user's balances (the caller checked who may see them)."""
    fiat = dict(conn.execute(_FIAT_SQL, {"u": user_id}).one()._mapping)
    fiat["total"] = (fiat["available"] + fiat["locked_in_orders"]
                     + fiat["locked_in_otc_orders"])
    stablecoins = [dict(row._mapping) for row in conn.execute(text(
        "SELECT currency, balance, locked FROM user_balances WHERE user_id = :u"
        " ORDER BY currency"), {"u": user_id})]
    return {"currency": "USD", "fiat": fiat, "stablecoins": stablecoins}


def holdings(conn: Connection, actor: Actor) -> list[dict[str, Any]]:
    """Per token: quantity, locked in orders, frozen, on-chain, average cost, last price, value."""
    policy.require(actor, "account.read")
    return user_holdings(conn, actor.user_id)


def user_holdings(conn: Connection, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """A user's holdings (the caller checked who may see them)."""
    return [_holding(conn, user_id, row._mapping)
            for row in conn.execute(_POSITIONS_SQL, {"u": user_id})]


def support_view(conn: Connection, actor: Actor, user_ref: str, *, with_balances: bool,
                 with_holdings: bool) -> dict[str, Any]:
    """Another user's profile, and their balances and holdings if asked (admins: support)."""
    policy.require(actor, "user.show")
    user = get_user(conn, user_ref)
    view: dict[str, Any] = user.to_dict()
    if with_balances:
        view["balances"] = user_balances(conn, user.id)
    if with_holdings:
        view["holdings"] = user_holdings(conn, user.id)
    return view


def _holding(conn: Connection, user_id: uuid.UUID, row: Any) -> dict[str, Any]:
    price = row["last_price"] if row["last_price"] is not None else row["price_per_token"]
    average = None
    if row["bought_quantity"]:
        average = (row["bought_cost"] / row["bought_quantity"]).quantize(
            AVERAGE_COST_PLACES, ROUND_HALF_EVEN)
    low, high = _on_chain_range(conn, user_id, row)
    return {"token_id": row["token_id"], "symbol": row["symbol"], "quantity": row["balance"],
            "locked_in_orders": row["locked_balance"],
            # an admin's freeze (workflows/holders/): a frozen wallet sells nothing
            "frozen": row["frozen_quantity"], "wallet_frozen": row["is_frozen"],
            "available": (0 if row["is_frozen"]
                          else row["balance"] - row["locked_balance"] - row["frozen_quantity"]),
            "on_chain_quantity": low, "on_chain_in_flight": high - low,
            "average_cost": average, "last_price": row["last_price"],
            "price_source": "last_trade" if row["last_price"] is not None else "offering",
            "market_value": row["balance"] * price}


def _on_chain_range(conn: Connection, user_id: uuid.UUID, row: Any) -> tuple[int, int]:
    """What the chain holds for the user, as the books explain it (reconcile's rule):
    (lowest, highest); they differ while a transfer or mint is in flight."""
    holder = Holder(user_id, "", None, row["balance"], row["locked_balance"])
    for item in conn.execute(_USER_ITEMS_SQL, {"t": row["token_id"], "u": user_id}):
        holder.items.append(Item(item.kind, item.status, int(item.items), int(item.delta)))
    return holder.expected_range()
