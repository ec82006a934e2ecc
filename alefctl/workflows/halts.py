"""Trading halts as database state (README, "Protections and halts").

A halt is three columns of the token's row (migration 0010): since when, until when (None:
until an admin resumes it) and why. The order group reads them under the token's row lock, so
a halt set here reaches a running server with its next order, and a circuit breaker's trip
(`record_trip`, written by the group in the transaction of the trade that tripped it) survives
a restart. While a token is halted new orders are refused (409 `token_halted`); cancels work.
Manual halts and resumes also tell the running server (NOTIFY), which announces them on the
token's WebSocket channels.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import (
    SET_HALT,
    TRADED_STATUSES,
    Token,
    get_token,
    halt_in_force,
)
from alefctl.workflows.trading.control import notify

# A lifted halt also ends the breaker's trips: they reset now (the overview counts them no more).
END_TRIPS = text("UPDATE circuit_breaker_events SET resets_at = now() WHERE token_id = :t"
                 " AND resets_at > now()")


def halt_token(conn: Connection, actor: Actor, token_ref: str, reason: str,
               until: datetime | None = None) -> dict[str, Any]:
    """Halt trading of a token (admin, audited): until `until`, or until an admin resumes it.
    Halting a halted token replaces its halt (a new reason or end)."""
    policy.require(actor, "token.halt")
    why = validation.non_empty(reason, field="reason", max_length=500)
    now = datetime.now(UTC)
    if until is not None and until <= now:
        raise InvalidInput("--until must be in the future", field="until")
    token = get_token(conn, token_ref, for_update=True)
    if token.status not in TRADED_STATUSES:
        raise Conflict(f"{token.symbol} is {token.status}: only a token on the secondary market"
                       " can be halted")
    conn.execute(SET_HALT, {"since": now, "until": until, "reason": why, "id": token.id})
    actor.audit(conn, "token.halt", "token", token.id, before=token.halt,
                after={"since": now, "until": until, "reason": why})
    notify(conn, {"kind": "halt", "token_id": token.id})
    return _shown(conn, token)


def resume_trading(conn: Connection, actor: Actor, token_ref: str,
                   reason: str | None = None) -> dict[str, Any]:
    """Let a token trade again (admin, audited): lift its halt (a reason is required) and resume
    it if it is paused; a conflict if it is neither halted nor paused."""
    from alefctl.workflows.lifecycle import change_status

    policy.require(actor, "token.lifecycle")
    token = get_token(conn, token_ref, for_update=True)
    if token.halt is None and token.status != "paused":
        raise Conflict(f"{token.symbol} is neither halted nor paused")
    if token.halt is not None:
        policy.require(actor, "token.halt")
        if reason is None:
            raise InvalidInput(f"{token.symbol} is halted: say why it may trade again (--reason)",
                               field="reason")
        why = validation.non_empty(reason, field="reason", max_length=500)
        conn.execute(SET_HALT, {"since": None, "until": None, "reason": None, "id": token.id})
        conn.execute(END_TRIPS, {"t": token.id})
        actor.audit(conn, "token.halt_lift", "token", token.id, before=token.halt,
                    after={"reason": why})
        notify(conn, {"kind": "resume", "token_id": token.id, "reason": why})
    if token.status == "paused":
        change_status(conn, actor, str(token.id), "resume")
    return _shown(conn, token)


def halts_in_force(conn: Connection) -> list[dict[str, Any]]:
    """The halt messages of every token halted now (for the server's WebSocket announcements)."""
    rows = conn.execute(text(
        "SELECT symbol, halted_at, halted_until, halt_reason FROM tokens WHERE halted_at IS NOT"
        " NULL AND (halted_until IS NULL OR halted_until > now()) ORDER BY symbol")).all()
    return [halt_message(row.symbol, row.halted_at, row.halted_until, row.halt_reason)
            for row in rows]


def announcement(conn: Connection, request: dict[str, Any]) -> dict[str, Any] | None:
    """The WebSocket message for a `halt` or `resume` request sent by NOTIFY, as the token is
    when the server reads it (None if a later change overtook it)."""
    row = conn.execute(text("SELECT symbol, halted_at, halted_until, halt_reason FROM tokens"
                            " WHERE id = :id"), {"id": request["token_id"]}).one()
    halted = halt_in_force(row.halted_at, row.halted_until, datetime.now(UTC))
    if request.get("kind") == "halt" and halted:
        return halt_message(row.symbol, row.halted_at, row.halted_until, row.halt_reason)
    if request.get("kind") == "resume" and not halted:
        return resume_message(row.symbol, str(request.get("reason") or "resumed by an admin"))
    return None


def halt_message(symbol: str, since: datetime, until: datetime | None,
                 reason: str) -> dict[str, Any]:
    """The WebSocket message of a halt."""
    return {"type": "halt", "symbol": symbol, "since": since.astimezone(UTC),
            "until": None if until is None else until.astimezone(UTC), "reason": reason}


def resume_message(symbol: str, reason: str) -> dict[str, Any]:
    """The WebSocket message of the end of a halt."""
    return {"type": "resume", "symbol": symbol, "reason": reason}


def _shown(conn: Connection, token: Token) -> dict[str, Any]:
    return get_token(conn, str(token.id)).to_dict()
