"""Changes to the books from outside the server: admin cancels, closed tokens and investors
who may no longer trade.

One `alefctl serve` owns the books, holding the BOOK_OWNER advisory lock for its lifetime.
A command that must change a book asks for that lock: if it gets it, no server is running and
it applies the change itself through the same OrderGroup code (the next server rebuilds its
books from the database); if not, it sends the request on the NOTIFY channel, which the
server's listener turns into writer commands within a second.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.db.system_users import treasury_id
from alefctl.errors import AlefError, Conflict, Unavailable
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.orders import get_order
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.commands import CancelOrder
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup
from alefctl.workflows.trading.state import MonotonicClock
from alefctl.workflows.trading.vocabulary import FINISHED_STATUSES, OPEN_STATUSES_SQL

CHANNEL = "alef_trading"
LISTEN_SQL = f"LISTEN {CHANNEL}"  # run by the server's listener on its own connection
CLOSED_STATUSES = ("matured", "delisted", "redeemed")
# The limits of a group that only cancels: it places nothing, so no notional is ever checked.
CANCEL_ONLY = NotionalLimits(Decimal(0), Decimal(0), Decimal(0))
# Who may not trade (funds.check_trader): such a user keeps no open order or pending stop.
INELIGIBLE_TRADER = ("(u.role <> 'investor' OR NOT u.is_activated OR u.kyc_status <> 'approved'"
                     " OR u.fatca_status = 'blocked')")


@contextmanager
def books_unowned(db: Engine) -> Iterator[bool]:
    """Yields True (holding the owner lock) when no server owns the books, else False."""
    with db.connect() as conn:
        got = locks.try_lock(conn, locks.BOOK_OWNER)
        conn.commit()
        try:
            yield bool(got)
        finally:
            if got:
                locks.unlock(conn, locks.BOOK_OWNER)
                conn.commit()


def notify(conn: Connection, request: dict[str, Any]) -> None:
    """Send a request to the server that owns the books (delivered at commit)."""
    conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                 {"channel": CHANNEL, "payload": json.dumps(request, default=str)})


def open_order_ids(conn: Connection, token_id: uuid.UUID) -> list[uuid.UUID]:
    """A token's open orders and pending stops."""
    return list(conn.execute(text(
        f"SELECT id FROM orders WHERE token_id = :t AND status IN {OPEN_STATUSES_SQL}"
        " ORDER BY engine_seq, created_at"), {"t": token_id}).scalars())


def trader_open_order_ids(conn: Connection, user_id: uuid.UUID,
                          token_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """A user's open orders and pending stops (of one token, if given)."""
    return list(conn.execute(text(
        f"SELECT id FROM orders WHERE user_id = :u AND status IN {OPEN_STATUSES_SQL}"
        " AND (CAST(:t AS uuid) IS NULL OR token_id = :t) ORDER BY engine_seq, created_at"),
        {"u": user_id, "t": token_id}).scalars())


def ineligible_trader_ids(conn: Connection, user_ids: list[uuid.UUID] | None = None
                          ) -> list[uuid.UUID]:
    """Users (of those given, or all) who may not trade but still have open orders."""
    return list(conn.execute(text(
        f"SELECT u.id FROM users u WHERE {INELIGIBLE_TRADER}"
        " AND (CAST(:ids AS uuid[]) IS NULL OR u.id = ANY(:ids)) AND EXISTS (SELECT 1 FROM orders o"
        f" WHERE o.user_id = u.id AND o.status IN {OPEN_STATUSES_SQL}) ORDER BY u.id"),
        {"ids": user_ids}).scalars())


def requested_cancels(conn: Connection, request: dict[str, Any]) -> list[tuple[Actor, str]]:
    """The orders a request sent by `notify` cancels, each with who cancels it: `cancel`, one
    order for its requester; `token_closed`, every open order of the token, by the operator;
    `trader_ineligible`, every open order of a user who may no longer trade, by the operator."""
    from alefctl.workflows.actor import resolve_actor
    from alefctl.workflows.service import service_actor

    if request.get("kind") == "cancel":
        email = conn.execute(text("SELECT email FROM users WHERE id = :u"),
                             {"u": request["actor_id"]}).scalar_one()
        return [(resolve_actor(conn, email, "cli"), str(request["order_id"]))]
    if request.get("kind") == "token_closed":
        operator = service_actor(conn)  # the server cancels, as its service identity
        return [(operator, str(order_id)) for order_id in open_order_ids(conn, request["token_id"])]
    if request.get("kind") == "trader_ineligible" and ineligible_trader_ids(
            conn, [uuid.UUID(str(request["user_id"]))]):  # still so when the server reads it
        operator = service_actor(conn)
        return [(operator, str(order_id))
                for order_id in trader_open_order_ids(conn, uuid.UUID(str(request["user_id"])))]
    return []


def closed_tokens_with_open_orders(conn: Connection) -> list[uuid.UUID]:
    """Tokens that matured or were delisted while orders of theirs stayed open."""
    return list(conn.execute(text(
        "SELECT DISTINCT o.token_id FROM orders o JOIN tokens t ON t.id = o.token_id WHERE"
        f" t.status = ANY(:closed) AND o.status IN {OPEN_STATUSES_SQL}"),
        {"closed": list(CLOSED_STATUSES)}).scalars())


def cancel_orders(db: Engine, actor: Actor, order_ids: list[uuid.UUID],
                  limits: NotionalLimits, wait_s: float = 5.0) -> list[dict[str, Any]]:
    """Cancel orders (their owner or an admin), with or without a running server."""
    with books_unowned(db) as unowned:
        if unowned:
            return _cancel_directly(db, actor, order_ids, limits)
    with db.begin() as conn:
        order_ids = _still_open(conn, actor, order_ids)
        for order_id in order_ids:
            notify(conn, {"kind": "cancel", "order_id": order_id, "actor_id": actor.user_id})
    done = await_finished(db, order_ids, wait_s) if order_ids else []
    if len(done) == 1 and done[0]["status"] != "cancelled":  # it filled before the server got to it
        raise Conflict(f"order is already {done[0]['status']}")
    return done


def close_token_orders(db: Engine, actor: Actor, token_id: uuid.UUID,
                       limits: NotionalLimits) -> list[dict[str, Any]]:
    """Cancel every open order of a token that stopped trading for good (admin)."""
    with db.connect() as conn:
        order_ids = open_order_ids(conn, token_id)
    return cancel_orders(db, actor, order_ids, limits) if order_ids else []


def close_trader_orders(db: Engine, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Cancel every open order and pending stop of a user who may no longer trade (deactivated,
    KYC revoked or rejected, FATCA-blocked), their locked funds released; the operator cancels,
    each cancel audited. Run right after the change is committed; nothing if still eligible."""
    from alefctl.workflows.service import service_actor

    with books_unowned(db) as unowned:
        with db.begin() as conn:
            if not ineligible_trader_ids(conn, [user_id]):
                return []
            operator = service_actor(conn)
            order_ids = trader_open_order_ids(conn, user_id)
            if not unowned:  # the server that owns the books cancels them (requested_cancels)
                notify(conn, {"kind": "trader_ineligible", "user_id": user_id})
        if unowned:
            return _cancel_directly(db, operator, order_ids, CANCEL_ONLY)
    return await_finished(db, order_ids, 5.0)


def _cancel_directly(db: Engine, actor: Actor, order_ids: list[uuid.UUID],
                     limits: NotionalLimits) -> list[dict[str, Any]]:
    with db.begin() as conn:
        group = OrderGroup(conn, Books(), limits, treasury_id(conn), MonotonicClock())
        outcomes = [group.run(CancelOrder(actor, str(order_id))) for order_id in order_ids]
        group.flush()
    for outcome in outcomes:
        if isinstance(outcome, AlefError) and len(order_ids) == 1:
            raise outcome
    return [o for o in outcomes if not isinstance(o, AlefError)]


def _still_open(conn: Connection, actor: Actor, order_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The orders a running server is asked to cancel: as the group refuses them without a
    server, one order that is not the actor's (and not an admin's to cancel) is not found, and
    one that is no longer open is a conflict; of several, those no longer open are left out."""
    owner = None if policy.may(actor, "order.cancel.others") else actor.user_id
    found = [get_order(conn, str(order_id), owner=owner) for order_id in order_ids]
    if len(found) == 1 and found[0]["status"] in FINISHED_STATUSES:
        raise Conflict(f"order is already {found[0]['status']}")
    return [order["id"] for order in found if order["status"] not in FINISHED_STATUSES]


def await_finished(db: Engine, order_ids: list[uuid.UUID], wait_s: float) -> list[dict[str, Any]]:
    """The orders once all are filled or cancelled (by the running server); Unavailable after
    wait_s seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        with db.connect() as conn:
            rows = conn.execute(text("SELECT id, status, cancel_reason FROM orders"
                                     " WHERE id = ANY(:ids)"), {"ids": order_ids}).all()
        if all(r.status in FINISHED_STATUSES for r in rows):
            return [dict(r._mapping) for r in rows]
        if time.monotonic() > deadline:
            raise Unavailable("the running server did not confirm the cancel in time;"
                              " check `alefctl order show` again shortly")
        time.sleep(0.1)
