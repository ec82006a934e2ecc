"""Market protections and surveillance around the books (spec step 1 and the anti-manipulation
suite), kept per token by the server across groups; trips and alerts are written to the database.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.ids import new_id
from alefctl.jsonfmt import to_jsonable
from alefctl.money import format_price, format_usd
from alefctl.workflows.protections import PLATFORM_DEFAULTS, ProtectionDefaults
from alefctl.workflows.tokens import SET_HALT, halt_in_force
from engine import MarketProtections, Surveillance

REFUSAL_FIELDS = {"fat_finger_unconfirmed": "confirm_fat_finger",
                  "nav_deviation_unconfirmed": "confirm_nav_deviation"}
HALTED = "token_halted"  # the code of every refusal while a token is halted


class Halt(NamedTuple):
    """A halt the circuit breaker set in this group (written to the token's row)."""

    since: datetime
    until: datetime
    reason: str


class MarketGuards:
    """One MarketProtections and one Surveillance per token; the thresholds of a token are its
    row's (workflows/protections.py), else `defaults`."""

    def __init__(self, defaults: ProtectionDefaults = PLATFORM_DEFAULTS) -> None:
        self.defaults = defaults
        self.protections: dict[uuid.UUID, MarketProtections] = {}
        self.surveillance: dict[uuid.UUID, Surveillance] = {}

    def refuse_halted(self, market: Any, now: datetime) -> None:
        """Refuse a new order while the token is halted (its row as locked for the group)."""
        if halt_in_force(market.halted_at, market.halted_until, now):
            until = ("until an admin resumes it" if market.halted_until is None
                     else f"until {_iso(market.halted_until)}")
            raise Conflict(f"{market.symbol} is halted {until}: {market.halt_reason}", code=HALTED)

    def check(self, market: Any, book: Any, price: int | None, nav: int | None, now: float,
              confirm_fat_finger: bool, confirm_nav_deviation: bool) -> None:
        """Refuse an order the protections do not let through (before anything is locked),
        saying its prices in USD, as the user wrote them, not in the engine's ticks."""
        protections = self._synced(market, now)
        refusal = protections.check_order(price, book.last_price, nav, now,
                                          confirm_fat_finger, confirm_nav_deviation)
        if refusal is None:
            return
        message = refusal.text(lambda ticks: format_price(ticks, market.tick_size), _time_text)
        if refusal.code == "circuit_breaker_tripped":
            raise Conflict(f"{market.symbol}: {message}", code=HALTED)
        raise InvalidInput(message, code=refusal.code, field=REFUSAL_FIELDS.get(refusal.code))

    def _synced(self, market: Any, now: float) -> MarketProtections:
        """The token's protections with the thresholds of its row; a trip its row no longer
        shows (an admin resumed it, or the group that tripped it failed to commit) is cleared:
        the database is the truth of a halt."""
        protections = self.protections.setdefault(market.id, MarketProtections())
        protections.configure(self.defaults.engine_config(market))
        breaker = protections.circuit_breaker
        if breaker.tripped_until is not None and \
                not halt_in_force(market.halted_at, market.halted_until, _time(now)):
            breaker.reset()
        return protections

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
                events: list[tuple], last_before: int | None, now: float) -> Halt | None:
        """Feed a call's events to the breaker and the detectors; record alerts, and a trip as
        the token's halt (returned) in this transaction, so that it outlives the server."""
        protections = self.protections.setdefault(token_id, MarketProtections())
        halt = None
        if protections.record_events(events, now):
            trade_price = next(e[7] for e in reversed(events) if e[0] == "trade")
            until = protections.circuit_breaker.tripped_until or now
            reference, trigger = (last_before or trade_price) * tick, trade_price * tick
            conn.execute(text(
                "INSERT INTO circuit_breaker_events (id, token_id, reference_price, trigger_price,"
                " tripped_at, resets_at) VALUES (:id, :t, :ref, :trig, :at, :until)"),
                {"id": new_id(), "t": token_id, "ref": reference, "trig": trigger,
                 "at": _time(now), "until": _time(until)})
            config = protections.config
            halt = Halt(_time(now), _time(until), (
                f"circuit breaker: a trade at {format_usd(trigger)} USD after"
                f" {format_usd(reference)} USD, a move of {config.circuit_breaker_move_bps / 100:g}%"
                f" or more within {config.circuit_breaker_window_seconds:g} s"))
            conn.execute(SET_HALT, {"since": halt.since, "until": halt.until,
                                    "reason": halt.reason, "id": token_id})
        surveillance = self.surveillance.setdefault(token_id, Surveillance())
        for alert in surveillance.observe(events, now, book.best_bid(), book.best_ask()):
            conn.execute(text(
                "INSERT INTO surveillance_alerts (id, token_id, kind, user_id, evidence)"
                " VALUES (:id, :t, :kind, :u, CAST(:evidence AS jsonb))"),
                {"id": new_id(), "t": token_id, "kind": alert.kind, "u": alert.user_id,
                 "evidence": json.dumps({"detail": alert.text(lambda p: format_price(p, tick)),
                                         "events": to_jsonable(list(alert.evidence))})})
        return halt


def _time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _time_text(seconds: float) -> str:
    """A time of the guards' clock (seconds since the epoch) as ISO-8601 UTC, as in --json."""
    return _iso(_time(seconds))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
