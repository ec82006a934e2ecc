"""WebSocket /api/v1/ws: subscribe to book:SYMBOL, trades:SYMBOL and orders (your own)."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from alefctl.errors import AlefError
from alefctl.jsonfmt import json_text
from alefctl.server.edge import check_value
from alefctl.server.feeds import book_levels
from alefctl.server.hub import Client
from alefctl.server.state import ServerState, server_state
from alefctl.workflows import policy
from alefctl.workflows.tokens import Token, get_token

router = APIRouter(prefix="/api/v1")
UNAUTHORIZED_CLOSE = 4001


@router.websocket("/ws")
async def stream(socket: WebSocket) -> None:
    """Authenticate (Authorization header or ?api_key=), then serve subscribe messages."""
    state = server_state(socket)
    header = socket.headers.get("authorization", "")
    secret = header.partition(" ")[2].strip() or socket.query_params.get("api_key", "")
    await socket.accept()
    try:
        actor = await state.key_cache.actor(state.db, secret)
    except AlefError as error:
        await socket.close(UNAUTHORIZED_CLOSE, error.message[:120])
        return
    client = Client(socket, str(actor.user_id))
    pump = asyncio.create_task(client.pump())
    try:
        while True:
            request = await socket.receive_json()
            await _handle(state, client, request)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away: unsubscribe below
    finally:
        state.hub.unsubscribe(client)
        client.offer(None)
        with contextlib.suppress(Exception):
            await pump


async def _handle(state: ServerState, client: Client, request: dict) -> None:
    op, channel = request.get("op"), str(request.get("channel", ""))
    if op not in ("subscribe", "unsubscribe", "snapshot"):
        client.offer(json_text({"type": "error",
                                "detail": "op must be subscribe, unsubscribe or snapshot"}))
        return
    if channel == "orders":
        channel = f"orders:{client.user_id}"
    kind, _, symbol = channel.partition(":")
    if kind not in policy.CHANNELS or not symbol:
        client.offer(json_text({"type": "error", "detail": f"unknown channel {channel!r}"}))
        return
    if not policy.may_subscribe(client.user_id, channel):
        client.offer(json_text({"type": "error", "code": "forbidden",
                                "detail": "orders channels are private: subscribe to 'orders'"}))
        return
    if op == "unsubscribe":
        state.hub.unsubscribe(client, channel)
        return
    if op == "subscribe":
        state.hub.subscribe(client, channel)
    if kind == "book":
        client.offer(await _snapshot(state, symbol))
    client.offer(json_text({"type": "subscribed", "channel": channel}))


async def _snapshot(state: ServerState, symbol: str) -> str:
    def load() -> Token:
        check_value(symbol, "channel")  # the edge's rules, as on every HTTP route
        with state.db.begin() as conn:
            return get_token(conn, symbol)

    try:
        token = await asyncio.to_thread(load)
    except AlefError as error:
        return json_text({"type": "error", "detail": error.message})
    feeds = state.feeds
    if not feeds.published(token.symbol):  # nothing traded since the server started
        levels = await asyncio.wrap_future(state.writer.call(book_levels, token.id, token.tick_size))
        if levels is not None and not feeds.published(token.symbol):
            feeds.update(token.symbol, levels)
    return feeds.snapshot(token.symbol)
