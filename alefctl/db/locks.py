"""Locks: every advisory lock alefctl takes, and the one order in which rows are locked.

Row lock order. A transaction that locks rows of several of these tables takes them in this
order, and the rows of one table in the order given, so two transactions never wait for each
other in a circle:

1. tokens, by id;
2. the object a workflow acts on (a dividend declaration, an allocation, an OTC order, an
   approval request: its operation then locks what it needs, from 3 on, and the object it
   approves, a dividend declaration, right after the request);
3. users: the platform treasury first, then every other user by id (the spec: the treasury
   before the issuer). `USERS_IN_LOCK_ORDER` is that ORDER BY;
4. their balances: user_balances and wallets, in the same user order;
5. orders, by id;
6. last, at COMMIT: the one row of audit_chain_head. The audit log's seal trigger (the
   audit_chain migration; deferred to the commit) takes it for every transaction that wrote
   audit rows, after all the locks above, so it never closes a circle of waits; audited
   transactions take turns only over their commits (alefctl/db/audit.py).

The treasury's row is also the gate of set-based balance changes. A transaction that changes
the balances of users it cannot all lock up front locks the treasury before any other user or
balance row: an order group (it credits makers it only meets while matching) exclusively, with
its traders; a dividend chunk (it credits its holders) shared, with `lock_treasury`, so that
chunks of one distribution still run side by side on their disjoint holders. An order group and
a dividend chunk therefore never hold rows the other waits for: the second waits at the gate
(tests/test_lock_order.py runs both at once).

Advisory locks. Session locks belong to a connection kept for that purpose; `*_xact` locks end
with their transaction. Two-int keys are (class, object); a per-object lock (a token's) has a
class of its own, so no object can collide with a fixed lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

ALEF = 0x616C6566  # "alef"


class AdvisoryKey(NamedTuple):
    """A two-int advisory lock key."""

    a: int
    b: int

    def params(self) -> dict[str, int]:
        """The key as bind parameters :a and :b."""
        return {"a": self.a, "b": self.b}


# Fixed locks.
DB_INIT_XACT = ALEF  # one `db init` at a time per database (a bigint key, transaction-scoped)
MATURE_DUE_XACT = 0x616C6566_0002  # one `token mature-due` at a time (bigint, transaction-scoped)
FAIL_DUE_XACT = 0x616C6566_0015  # one `offering fail-due` at a time (bigint, transaction-scoped)
MINT_WORKER = AdvisoryKey(ALEF, 4)  # one mint worker at a time; reconcile waits for it
BOOK_OWNER = AdvisoryKey(ALEF, 5)  # one `alefctl serve` owns the books of a database
AGENT_WORKER = AdvisoryKey(ALEF, 13)  # one worker of agent operations (freeze, recovery, ...)
TOKEN_STATE_WORKER = AdvisoryKey(ALEF, 14)  # one token-state chain job worker at a time

# Classes of per-token locks.
DEPLOY_CLASS = 0x616C6503  # one deployment of a token at a time
SETTLEMENT_CLASS = 0x616C6507  # one settlement runner (or reconcile) per token at a time

USERS_IN_LOCK_ORDER = "{user} <> :treasury, {user}"  # format with the user id column


def lock_treasury(conn: Connection, treasury_id: uuid.UUID, *, shared: bool = False) -> None:
    """Pass the gate of balance changes: lock the treasury's row until commit."""
    mode = "SHARE" if shared else "UPDATE"
    conn.execute(text(f"SELECT 1 FROM users WHERE id = :t FOR {mode}"), {"t": treasury_id})


def token_key(lock_class: int, token_id: uuid.UUID) -> AdvisoryKey:
    """A token's key in a class (a collision only makes two tokens take turns)."""
    return AdvisoryKey(lock_class, token_id.int & 0x7FFFFFFF)


def try_lock(conn: Connection, key: AdvisoryKey) -> bool:
    """Take a session lock if it is free; False if someone holds it."""
    return bool(conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), key.params()).scalar_one())


def lock(conn: Connection, key: AdvisoryKey) -> None:
    """Take a session lock, waiting for it."""
    conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), key.params())


def unlock(conn: Connection, key: AdvisoryKey) -> None:
    """Release a session lock this connection holds."""
    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), key.params())


def lock_xact(conn: Connection, key: int) -> None:
    """Take a transaction lock, waiting for it."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def try_lock_xact(conn: Connection, key: int) -> bool:
    """Take a transaction lock if it is free; False if someone holds it."""
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar_one())


def is_held(conn: Connection, key: AdvisoryKey, *, by_this_session: bool = False) -> bool:
    """Whether a two-int lock is held: by any session, or by this one (pg_locks keeps the key
    as classid, objid)."""
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND (NOT :here OR pid = pg_backend_pid()) AND classid::bigint = :a"
        " AND objid::bigint = :b AND objsubid = 2)"),
        {**key.params(), "here": by_this_session}).scalar_one())


@contextmanager
def worker_lock(db: Engine, key: AdvisoryKey) -> Iterator[bool]:
    """Hold a worker's session lock for one run on a connection of its own: yields True while
    held (released at the end), or False at once when another worker holds it."""
    with db.connect() as conn:
        held = try_lock(conn, key)
        conn.commit()
        try:
            yield held
        finally:
            if held:
                unlock(conn, key)
                conn.commit()
