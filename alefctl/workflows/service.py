"""Who acts when `alefctl serve` acts by itself (README, "Who acts").

The server's own work (the settlement loop's runs, and the cancels of open orders of a token
that closed) is done, and audited, as the service identity: the system operator
(`operator@system.alefctl`, created by `db init`) with source `worker`. The process is started
by a person or service account whose key `alefctl serve` verified: `record_start` audits
`server.start` under that identity, naming the service identity, so the audit log tells who
started the process whose work follows. Work the server runs on someone's request (a token
deployment started over HTTP, an order, an approval) is audited under the requester.
"""

from __future__ import annotations

import os

from sqlalchemy import Connection

from alefctl.workflows import policy
from alefctl.workflows.actor import Actor, resolve_actor

SOURCE = "worker"


def service_actor(conn: Connection) -> Actor:
    """The identity the server's own work runs and is audited as."""
    return resolve_actor(conn, None, SOURCE)


def record_start(conn: Connection, actor: Actor, *, host: str, port: int) -> Actor:
    """Audit that `actor` (the key `alefctl serve` runs with) starts a server; returns the service
    identity its own work will act as."""
    policy.require(actor, "server.run")
    service = service_actor(conn)
    actor.audit(conn, "server.start", "user", service.user_id,
                after={"service_identity": service.email, "host": host, "port": port,
                       "pid": os.getpid()})
    return service
