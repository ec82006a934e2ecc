"""Halts and resumes announced on a token's public WebSocket channels (`book:SYMBOL` and
`trades:SYMBOL`): a circuit breaker's trip from the order writer's group reports, an admin's
halt or resume from the trading listener (workflows/halts.py sends them with NOTIFY), and the end
of a halt at its time, unless a later halt or resume overtook it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alefctl.server.feeds import Message
from alefctl.server.hub import Hub
from alefctl.workflows.halts import resume_message

HALT_ENDED = "the halt ended"


def channel_messages(message: dict[str, Any]) -> list[Message]:
    """A halt or resume message on each public channel of its token."""
    symbol = message["symbol"]
    return [(f"book:{symbol}", message), (f"trades:{symbol}", message)]


class HaltAnnouncer:
    """Broadcasts halt and resume messages on the event loop; `announce` may be called from any
    thread (the writer's publisher, the listener)."""

    def __init__(self, hub: Hub, loop: asyncio.AbstractEventLoop) -> None:
        self.hub = hub
        self.loop = loop
        self._ends: dict[str, datetime | None] = {}  # symbol -> end of the halt announced last

    def announce(self, message: dict[str, Any]) -> None:
        """Broadcast a halt or resume message (workflows/halts.py: halt_message, resume_message)."""
        self.loop.call_soon_threadsafe(self._announce, message)

    def _announce(self, message: dict[str, Any]) -> None:
        symbol = message["symbol"]
        if message["type"] == "halt":
            until = message["until"]
            self._ends[symbol] = until
            if until is not None:
                delay = (until - datetime.now(UTC)).total_seconds()
                self.loop.call_later(max(delay, 0.0), self._ended, symbol, until)
        else:
            self._ends.pop(symbol, None)
        self.hub.broadcast(channel_messages(message))

    def _ended(self, symbol: str, until: datetime) -> None:
        if symbol in self._ends and self._ends[symbol] == until:
            del self._ends[symbol]
            self.hub.broadcast(channel_messages(resume_message(symbol, HALT_ENDED)))
