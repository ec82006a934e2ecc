"""Rate limits of the API: each user's two token buckets, `orders` (order entry) and `reads`
(every other request, and WebSocket messages), their rates (the settings' defaults, or an
admin's override for one user) and the one statement that takes tokens from them.

A bucket holds at most `burst_s` seconds of its rate and refills continuously. The buckets live
in the database (migration 0012, unlogged), so every server process on it draws from the same
ones; the server asks for the requests of one event-loop turn in one statement
(server/rate_limit.py). The budget is the user's, shared by all of their API keys: an investor
may create keys, so a budget per key would be one more key away from doubled.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.users import get_user

BUDGETS = ("orders", "reads")
MAX_PER_S = 1_000_000  # the migration's CHECK


@dataclass(frozen=True)
class Limits:
    """Requests per second of each budget, and how many seconds of them a bucket holds."""

    orders_per_s: int
    reads_per_s: int
    burst_s: float

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The defaults of settings.ratelimit."""
        return cls(settings.orders_per_s, settings.reads_per_s, settings.burst_s)


@dataclass(frozen=True)
class UserLimits:
    """A user's rates, each the user's own (set by an admin) or the default."""

    user_id: uuid.UUID
    email: str
    orders_per_s: int
    reads_per_s: int
    orders_source: str  # "user" or "default"
    reads_source: str
    burst_s: float

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


def user_limits(conn: Connection, actor: Actor, user_ref: str, defaults: Limits) -> UserLimits:
    """A user's effective rates (admins)."""
    policy.require(actor, "user.rate_limit")
    user = get_user(conn, user_ref)
    return _effective(user.id, user.email, _overrides(conn, user.id), defaults)


def set_user_limits(conn: Connection, actor: Actor, user_ref: str, defaults: Limits, *,
                    orders_per_s: int | None = None, reads_per_s: int | None = None,
                    reset: bool = False) -> tuple[UserLimits, bool]:
    """Give a user rates of their own (admins; audited), or with `reset` the defaults again;
    a rate not given stays as it is. Returns the rates now and whether anything changed."""
    policy.require(actor, "user.rate_limit")
    for name, value in (("orders", orders_per_s), ("reads", reads_per_s)):
        if value is not None and not 1 <= value <= MAX_PER_S:
            raise InvalidInput(f"{name} must be 1 to {MAX_PER_S:,} requests a second", field=name)
    if reset and (orders_per_s is not None or reads_per_s is not None):
        raise InvalidInput("--reset takes no rates", field="reset")
    user = get_user(conn, user_ref, for_update=True)
    before = _overrides(conn, user.id)
    after = (None, None) if reset else (
        before[0] if orders_per_s is None else orders_per_s,
        before[1] if reads_per_s is None else reads_per_s)
    changed = after != before
    if changed:
        conn.execute(text(
            "INSERT INTO user_rate_limits (user_id, orders_per_s, reads_per_s) VALUES (:u, :o, :r)"
            " ON CONFLICT (user_id) DO UPDATE SET orders_per_s = EXCLUDED.orders_per_s,"
            " reads_per_s = EXCLUDED.reads_per_s, updated_at = now()"),
            {"u": user.id, "o": after[0], "r": after[1]})
        actor.audit(conn, "user.rate_limit", "user", user.id,
                    before={"orders_per_s": before[0], "reads_per_s": before[1]},
                    after={"orders_per_s": after[0], "reads_per_s": after[1]})
    return _effective(user.id, user.email, after, defaults), changed


def _overrides(conn: Connection, user_id: uuid.UUID) -> tuple[int | None, int | None]:
    row = conn.execute(text("SELECT orders_per_s, reads_per_s FROM user_rate_limits"
                            " WHERE user_id = :u"), {"u": user_id}).first()
    return (None, None) if row is None else (row.orders_per_s, row.reads_per_s)


def _effective(user_id: uuid.UUID, email: str, overrides: tuple[int | None, int | None],
               defaults: Limits) -> UserLimits:
    orders, reads = overrides
    return UserLimits(user_id, email,
                      defaults.orders_per_s if orders is None else orders,
                      defaults.reads_per_s if reads is None else reads,
                      "default" if orders is None else "user",
                      "default" if reads is None else "user", defaults.burst_s)


@dataclass(frozen=True)
class Taken:
    """What one take left of a bucket: requests granted, tokens left, the rate it refills at."""

    granted: int
    tokens: float
    per_second: float

    def seconds_to_next(self) -> float:
        """How long until the bucket holds a whole token again (0 if it does)."""
        return max(0.0, (1.0 - self.tokens) / self.per_second)


# The refill since the last take, capped at the burst; R in what follows.
_REFILLED = ("LEAST(EXCLUDED.burst, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM EXCLUDED.taken_at"
             " - b.taken_at)::float8) * EXCLUDED.per_second)")
_GRANTED = f"LEAST(EXCLUDED.asked, GREATEST(0, floor({_REFILLED})))::int"
TAKE = text(
    "INSERT INTO rate_limit_buckets AS b"
    " (user_id, budget, tokens, taken_at, per_second, burst, asked, granted)"
    " SELECT user_id, budget, burst - LEAST(asked, floor(burst)), at, per_second, burst, asked,"
    " LEAST(asked, floor(burst))::int FROM ("
    "  SELECT t.user_id, t.budget, t.asked, clock_timestamp() AS at, r.per_second,"
    "   r.per_second * :burst_s AS burst"
    "  FROM unnest(CAST(:users AS uuid[]), CAST(:budgets AS text[]), CAST(:asked AS int[]))"
    "   AS t(user_id, budget, asked)"
    "  LEFT JOIN user_rate_limits o ON o.user_id = t.user_id"
    "  CROSS JOIN LATERAL (SELECT CAST(CASE t.budget"
    "   WHEN 'orders' THEN COALESCE(o.orders_per_s, :orders_per_s)"
    "   ELSE COALESCE(o.reads_per_s, :reads_per_s) END AS float8) AS per_second) r"
    "  ORDER BY t.user_id, t.budget) w"  # one lock order for every process's takes
    " ON CONFLICT (user_id, budget) DO UPDATE SET"
    f" tokens = {_REFILLED} - {_GRANTED},"
    " taken_at = GREATEST(b.taken_at, EXCLUDED.taken_at), per_second = EXCLUDED.per_second,"
    f" burst = EXCLUDED.burst, asked = EXCLUDED.asked, granted = {_GRANTED}"
    " RETURNING b.user_id, b.budget, b.granted, b.tokens, b.per_second")


def take_tokens(conn: Connection, asked: dict[tuple[uuid.UUID, str], int],
                defaults: Limits) -> dict[tuple[uuid.UUID, str], Taken]:
    """Take tokens for requests, `asked[(user_id, budget)]` of them per bucket, in one statement:
    each bucket grants as many as it holds whole tokens. Returns each bucket's Taken."""
    keys = list(asked)
    rows = conn.execute(TAKE, {
        "users": [user_id for user_id, _ in keys], "budgets": [budget for _, budget in keys],
        "asked": [asked[key] for key in keys], "burst_s": defaults.burst_s,
        "orders_per_s": defaults.orders_per_s, "reads_per_s": defaults.reads_per_s}).all()
    return {(row.user_id, row.budget): Taken(row.granted, row.tokens, row.per_second)
            for row in rows}
