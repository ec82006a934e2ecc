"""WebSocket fan-out: channels per token and per investor, bounded queues per client.

A client whose queue fills up is dropped with close code 4008 ("too slow") so that a slow
reader never holds back matching or other clients.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import WebSocket

from alefctl.jsonfmt import json_text
from alefctl.server.feeds import Message

SLOW_CLIENT_CLOSE = 4008
QUEUE_LIMIT = 1000


class Client:
    """One WebSocket connection and its outgoing queue."""

    def __init__(self, socket: WebSocket, user_id: str, role: str = ""):
        self.socket = socket
        self.user_id = user_id
        self.role = role  # the role's notifications reach a `notifications` subscriber
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
        self.dropped = False
        self.channels: set[str] = set()  # subscribed (kept by the Hub)

    def offer(self, message: str | None) -> bool:
        """Queue a message (JSON text) without waiting; False when the client is too slow."""
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True

    async def pump(self) -> None:
        """Send queued messages until told to stop."""
        while (message := await self.outbox.get()) is not None:
            await self.socket.send_text(message)


class Hub:
    """Subscriptions by channel; `broadcast` runs on the event loop."""

    def __init__(self) -> None:
        self.channels: dict[str, set[Client]] = {}

    def subscribe(self, client: Client, channel: str) -> None:
        """Start sending a channel's messages to a client."""
        self.channels.setdefault(channel, set()).add(client)
        client.channels.add(channel)

    def unsubscribe(self, client: Client, channel: str | None = None) -> None:
        """Stop one channel, or every channel when none is named."""
        names = [channel] if channel else list(client.channels)
        for name in names:
            clients = self.channels.get(name)
            if clients is not None:
                clients.discard(client)
                if not clients:
                    del self.channels[name]
            client.channels.discard(name)

    def broadcast(self, messages: list[Message]) -> None:
        """Queue each message for its channel's clients, encoded once if it has any (most
        investors' order channels have none); drop clients that cannot keep up."""
        for channel, message in messages:
            clients = self.channels.get(channel)
            if not clients:
                continue
            text = message if isinstance(message, str) else json_text(message)
            for client in list(clients):
                if not client.offer(text):
                    self.drop(client)

    def drop(self, client: Client) -> None:
        """Disconnect a client that fell behind."""
        if client.dropped:
            return
        client.dropped = True
        self.unsubscribe(client)
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                client.outbox.get_nowait()
        client.outbox.put_nowait(None)
        asyncio.ensure_future(client.socket.close(SLOW_CLIENT_CLOSE, "client too slow: resubscribe"))
