"""Market protections and surveillance around the books (spec step 1 and the anti-manipulation
suite), kept per token by the server across groups; trips and alerts are written to the database.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.ids import new_id
from alefctl.jsonfmt import to_jsonable
from alefctl.money import format_price
from engine import MarketProtections, Surveillance

REFUSAL_FIELDS = {"fat_finger_unconfirmed": "confirm_fat_finger",
                  "nav_deviation_unconfirmed": "confirm_nav_deviation"}


class MarketGuards:
    """One MarketProtections and one Surveillance per token."""

    def __init__(self) -> None:
        self.protections: dict[uuid.UUID, MarketProtections] = {}
        self.surveillance: dict[uuid.UUID, Surveillance] = {}

    def check(self, token_id: uuid.UUID, tick: Decimal, book: Any, price: int | None,
              nav: int | None, now: float, confirm_fat_finger: bool,
              confirm_nav_deviation: bool) -> None:
        """Refuse an order the protections do not let through (before anything is locked),
        saying its prices in USD, as the user wrote them, not in the engine's ticks."""
        protections = self.protections.setdefault(token_id, MarketProtections())
        refusal = protections.check_order(price, book.last_price, nav, now,
                                          confirm_fat_finger, confirm_nav_deviation)
        if refusal is None:
            return
        message = refusal.text(lambda ticks: format_price(ticks, tick), _time_text)
        if refusal.code == "circuit_breaker_tripped":
            raise Conflict(message, code=refusal.code)
        raise InvalidInput(message, code=refusal.code, field=REFUSAL_FIELDS.get(refusal.code))

    def refusal_at_trigger(self, token_id: uuid.UUID, price: int | None, last_price: int | None,
                           nav: int | None, now: float, events: list[tuple]) -> str | None:
        """Why a stop that just triggered may not run (a halt, a blocked price), or None: the
        protections as this call's trades so far left them, without recording those twice
        (observe records the call once it ends). Confirmations given at placement stand."""
        protections = copy.copy(self.protections.setdefault(token_id, MarketProtections()))
        protections.circuit_breaker = copy.deepcopy(protections.circuit_breaker)
        protections.record_events(events, now)
        refusal = protections.check_order(price, last_price, nav, now, True, True)
        return None if refusal is None else refusal.code

    def observe(self, conn: Connection, token_id: uuid.UUID, tick: Decimal, book: Any,
                events: list[tuple], last_before: int | None, now: float) -> None:
        """Feed a call's events to the breaker and the detectors; record trips and alerts."""
        protections = self.protections.setdefault(token_id, MarketProtections())
        if protections.record_events(events, now):
            trade_price = next(e[7] for e in reversed(events) if e[0] == "trade")
            until = protections.circuit_breaker.tripped_until or now
            conn.execute(text(
                "INSERT INTO circuit_breaker_events (id, token_id, reference_price, trigger_price,"
                " tripped_at, resets_at) VALUES (:id, :t, :ref, :trig, :at, :until)"),
                {"id": new_id(), "t": token_id, "ref": (last_before or trade_price) * tick,
                 "trig": trade_price * tick, "at": _time(now), "until": _time(until)})
        surveillance = self.surveillance.setdefault(token_id, Surveillance())
        for alert in surveillance.observe(events, now, book.best_bid(), book.best_ask()):
            conn.execute(text(
                "INSERT INTO surveillance_alerts (id, token_id, kind, user_id, evidence)"
                " VALUES (:id, :t, :kind, :u, CAST(:evidence AS jsonb))"),
                {"id": new_id(), "t": token_id, "kind": alert.kind, "u": alert.user_id,
                 "evidence": json.dumps({"detail": alert.text(lambda p: format_price(p, tick)),
                                         "events": to_jsonable(list(alert.evidence))})})


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _time_text(seconds: float) -> str:
    """A time of the guards' clock (seconds since the epoch) as ISO-8601 UTC, as in --json."""
    return _time(seconds).isoformat(timespec="seconds").replace("+00:00", "Z")
