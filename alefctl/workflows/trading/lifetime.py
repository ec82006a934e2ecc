"""Order lifetime: when GTD and DAY orders expire, and the dead-man's switch (cancel-all-after).

A GTD order names its expire_at; a DAY order expires at its token's session end (tokens.
session_end, UTC, else settings.lifetime.session_end): today's, or tomorrow's once today's has
passed. Both rest like GTC until then. Expiry and a lapsed switch are cancels run by the order
path like any other (the server's lifetime loop, or `alefctl order expire` without a server),
by the service identity, audited, funds released: what is due is read from the database, so it
survives a restart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.trading.vocabulary import DATED_TIME_IN_FORCE, OPEN_STATUSES_SQL

EXPIRED = "expired"  # the cancel_reason of an order that expired
SWITCH_LAPSED = "cancel_all_after"  # the cancel_reason of an order its owner's switch cancelled


@dataclass(frozen=True)
class LifetimeBounds:
    """What an order's lifetime may be (settings.lifetime)."""

    max_expiry: timedelta = timedelta(days=90)
    session_end: time = time(21, 0)

    @classmethod
    def from_settings(cls, lifetime: Any) -> LifetimeBounds:
        """The bounds configured in settings.lifetime."""
        return cls(timedelta(days=lifetime.max_expiry_days), lifetime.session_end)


def expire_at(time_in_force: str, requested: datetime | None, session_end: time | None,
              bounds: LifetimeBounds, now: datetime) -> datetime | None:
    """When an order expires: a GTD order's own time (in the future, at most max_expiry ahead),
    a DAY order's next session end, None for the others."""
    if time_in_force not in DATED_TIME_IN_FORCE:
        return None
    if time_in_force == "DAY":
        return next_session_end(session_end or bounds.session_end, now)
    assert requested is not None  # check_order_shape: a GTD order names its expire_at
    at = requested if requested.tzinfo else requested.replace(tzinfo=UTC)
    if at <= now:
        raise InvalidInput("expire_at must be in the future", field="expire_at")
    if at > now + bounds.max_expiry:
        raise InvalidInput(f"expire_at may be at most {bounds.max_expiry.days} days ahead",
                           field="expire_at")
    return at


def next_session_end(session_end: time, now: datetime) -> datetime:
    """The first session end (UTC) after now."""
    today = datetime.combine(now.astimezone(UTC).date(), session_end, tzinfo=UTC)
    return today if today > now else today + timedelta(days=1)


def due_orders(conn: Connection, now: datetime) -> list[uuid.UUID]:
    """Open orders and pending stops whose expire_at has passed, earliest first."""
    return list(conn.execute(text(
        "SELECT id FROM orders WHERE expire_at IS NOT NULL AND expire_at <= :now"
        f" AND status IN {OPEN_STATUSES_SQL} ORDER BY expire_at, id"), {"now": now}).scalars())


def lapsed_switches(conn: Connection, now: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """(investor, deadline) of every armed switch whose deadline has passed."""
    return [(row.user_id, row.deadline) for row in conn.execute(text(
        "SELECT user_id, deadline FROM cancel_all_after WHERE deadline <= :now"
        " ORDER BY deadline, user_id"), {"now": now})]


def disarm_fired(conn: Connection, user_id: uuid.UUID, deadline: datetime) -> None:
    """Disarm a switch that fired, unless its owner refreshed it meanwhile."""
    conn.execute(text("DELETE FROM cancel_all_after WHERE user_id = :u AND deadline = :d"),
                 {"u": user_id, "d": deadline})


def arm_cancel_all_after(conn: Connection, actor: Actor, timeout_s: int,
                         max_timeout_s: int) -> dict[str, Any]:
    """Arm (or refresh) the caller's switch: unless called again within timeout_s seconds, every
    open order of theirs is cancelled; 0 disarms it. Returns the switch as it is now."""
    policy.require(actor, "order.cancel_all_after")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) \
            or not 0 <= timeout_s <= max_timeout_s:
        raise InvalidInput(f"timeout_s must be a whole number of seconds from 0 (disarm) to"
                           f" {max_timeout_s}", field="timeout_s")
    if timeout_s == 0:
        conn.execute(text("DELETE FROM cancel_all_after WHERE user_id = :u"),
                     {"u": actor.user_id})
        return {"armed": False, "timeout_s": 0, "deadline": None}
    deadline = conn.execute(text(
        "INSERT INTO cancel_all_after (user_id, timeout_s, deadline)"
        " VALUES (:u, :s, now() + make_interval(secs => :s))"
        " ON CONFLICT (user_id) DO UPDATE SET timeout_s = excluded.timeout_s,"
        " deadline = excluded.deadline, updated_at = now() RETURNING deadline"),
        {"u": actor.user_id, "s": timeout_s}).scalar_one()
    return {"armed": True, "timeout_s": timeout_s, "deadline": deadline}


def set_session_end(conn: Connection, actor: Actor, token_ref: str,
                    session_end: time | None) -> dict[str, Any]:
    """Set when a token's DAY orders expire (UTC; None: settings.lifetime.session_end), for the
    DAY orders placed from now on (admin, audited)."""
    from alefctl.workflows.tokens import get_token

    policy.require(actor, "token.session_end")
    token = get_token(conn, token_ref, for_update=True)
    before = conn.execute(text("SELECT session_end FROM tokens WHERE id = :t"),
                          {"t": token.id}).scalar_one()
    conn.execute(text("UPDATE tokens SET session_end = :s, updated_at = now() WHERE id = :t"),
                 {"s": session_end, "t": token.id})
    after = None if session_end is None else session_end.isoformat()
    actor.audit(conn, "token.session_end", "token", token.id,
                before={"session_end": None if before is None else before.isoformat()},
                after={"session_end": after})
    return {"symbol": token.symbol, "session_end": after}


def parse_session_end(raw: str) -> time | None:
    """`HH:MM` (UTC), or `default` for the setting's."""
    if raw.strip().lower() == "default":
        return None
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"session end must be HH:MM (UTC) or default, not {raw!r}",
                           field="session_end") from None
