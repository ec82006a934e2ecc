"""The WebSocket channel `notifications`: each notification, pushed when it is written.

The notifications trigger announces every new row (pg_notify 'alef_notifications', migration
0020); a listener thread hands each to the hub on the event loop. A user's own notifications go
to notifications:<user id>; a role's (e.g. every admin's) to an internal channel that a
subscriber of `notifications` with that role joins too (routes/stream.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from alefctl.server.listener import TradingListener
from alefctl.workflows.notifications import LISTEN_SQL

if TYPE_CHECKING:
    from alefctl.server.state import ServerState


def role_channel(role: str) -> str:
    """The internal hub channel of a role's notifications (not a name a client may ask for)."""
    return f"notifications:role-{role}"


def channel_of(note: dict[str, Any]) -> str:
    """Where one announced notification goes."""
    if note.get("user_id"):
        return f"notifications:{note['user_id']}"
    return role_channel(str(note.get("audience")))


def start_notification_push(state: ServerState) -> TradingListener:
    """Start listening; stop the returned listener on shutdown."""
    loop = asyncio.get_running_loop()

    def push(note: dict[str, Any]) -> None:
        message = {"type": "notification", "channel": "notifications", **note}
        loop.call_soon_threadsafe(state.hub.broadcast, [(channel_of(note), message)])

    listener = TradingListener(state.db, push, listen_sql=LISTEN_SQL, name="notification-push")
    listener.start()
    return listener
