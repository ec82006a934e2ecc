"""Changes to the books from outside the server: admin cancels and closed tokens.

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
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import CancelOrder, OrderGroup
from alefctl.workflows.trading.state import MonotonicClock
from alefctl.workflows.trading.vocabulary import FINISHED_STATUSES, OPEN_STATUSES_SQL

CHANNEL = "alef_trading"
LISTEN_SQL = f"LISTEN {CHANNEL}"  # run by the server's listener on its own connection
CLOSED_STATUSES = ("matured", "delisted")


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


def requested_cancels(conn: Connection, request: dict[str, Any]) -> list[tuple[Actor, str]]:
    """The orders a request sent by `notify` cancels, each with who cancels it: `cancel`, one
    order for its requester; `token_closed`, every open order of the token, by the operator."""
    from alefctl.workflows.actor import resolve_actor
    from alefctl.workflows.service import service_actor

    if request.get("kind") == "cancel":
        email = conn.execute(text("SELECT email FROM users WHERE id = :u"),
                             {"u": request["actor_id"]}).scalar_one()
        return [(resolve_actor(conn, email, "cli"), str(request["order_id"]))]
    if request.get("kind") == "token_closed":
        operator = service_actor(conn)  # the server cancels, as its service identity
        return [(operator, str(order_id)) for order_id in open_order_ids(conn, request["token_id"])]
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
    done = _await_finished(db, order_ids, wait_s) if order_ids else []
    if len(done) == 1 and done[0]["status"] != "cancelled":  # it filled before the server got to it
        raise Conflict(f"order is already {done[0]['status']}")
    return done


def close_token_orders(db: Engine, actor: Actor, token_id: uuid.UUID,
                       limits: NotionalLimits) -> list[dict[str, Any]]:
    """Cancel every open order of a token that stopped trading for good (admin)."""
    with db.connect() as conn:
        order_ids = open_order_ids(conn, token_id)
    return cancel_orders(db, actor, order_ids, limits) if order_ids else []


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


def _await_finished(db: Engine, order_ids: list[uuid.UUID], wait_s: float) -> list[dict[str, Any]]:
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
