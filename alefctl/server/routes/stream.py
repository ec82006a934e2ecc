"""WebSocket /api/v1/ws: subscribe to book:SYMBOL, trades:SYMBOL, orders and notifications
(your own; notifications also carries your role's: server/notification_push.py).

A channel name is a kind and a token (CHANNEL_NAME); one connection holds at most
settings.server.ws_max_subscriptions channels. Every refusal is an `error` message with a code
(README, "WebSocket") and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from alefctl.errors import AlefError
from alefctl.jsonfmt import json_text
from alefctl.server.edge import check_value
from alefctl.server.feeds import book_levels
from alefctl.server.hub import Client
from alefctl.server.notification_push import role_channel
from alefctl.server.rate_limit import message_refusal
from alefctl.server.state import ServerState, server_state
from alefctl.workflows import policy
from alefctl.workflows.tokens import Token, get_token

router = APIRouter(prefix="/api/v1")
UNAUTHORIZED_CLOSE = 4001
# `orders`, or a kind and a token symbol or id (or, for orders, your user id)
CHANNEL_NAME = re.compile(r"[a-z]{1,16}(:[A-Za-z0-9-]{1,64})?")


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
    client = Client(socket, str(actor.user_id), actor.role)
    pump = asyncio.create_task(client.pump())
    try:
        while True:
            message = await socket.receive_text()
            refusal = await message_refusal(state, actor.user_id)
            if refusal is not None:  # over the user's rate: ignored
                client.offer(refusal)
                continue
            await _handle(state, client, _parsed(message))
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away: unsubscribe below
    finally:
        state.hub.unsubscribe(client)
        client.offer(None)
        with contextlib.suppress(Exception):
            await pump


def _parsed(message: str) -> object:
    """A client's message as JSON, or None when it is not JSON (answered with an error)."""
    try:
        return json.loads(message)
    except ValueError:
        return None


async def _handle(state: ServerState, client: Client, request: object) -> None:
    if not isinstance(request, dict):
        client.offer(_error("invalid_message",
                            'a message is a JSON object: {"op": "subscribe", "channel": "..."}'))
        return
    op, channel = request.get("op"), request.get("channel", "")
    if op not in ("subscribe", "unsubscribe", "snapshot"):
        client.offer(_error("invalid_message", "op must be subscribe, unsubscribe or snapshot"))
        return
    if not isinstance(channel, str) or not CHANNEL_NAME.fullmatch(channel):
        client.offer(_error("invalid_channel", "a channel is book:SYMBOL, trades:SYMBOL,"
                            " orders or notifications (letters, digits and '-', at most 64 after the ':')"))
        return
    if channel in policy.PRIVATE_CHANNELS:
        channel = f"{channel}:{client.user_id}"
    kind, _, symbol = channel.partition(":")
    if kind not in policy.CHANNELS or not symbol:
        client.offer(_error("unknown_channel", f"unknown channel {channel!r}"))
        return
    if not policy.may_subscribe(client.user_id, channel):
        client.offer(_error("forbidden", "private channels are your own: subscribe to"
                            f" {kind!r}"))
        return
    if op == "unsubscribe":
        state.hub.unsubscribe(client, channel)
        if kind == "notifications":
            state.hub.unsubscribe(client, role_channel(client.role))
        return
    limit = state.settings.server.ws_max_subscriptions
    if op == "subscribe" and channel not in client.channels and len(client.channels) >= limit:
        client.offer(_error("too_many_subscriptions", f"a connection holds at most {limit}"
                            " subscriptions: unsubscribe from one first"))
        return
    token = None
    if kind not in policy.PRIVATE_CHANNELS:  # a token's channel: the token must exist
        try:
            token = await asyncio.to_thread(_token, state, symbol)
        except AlefError as error:
            client.offer(_error(error.code, error.message))
            return
    if op == "subscribe":  # before the snapshot, so that no delta falls between the two
        state.hub.subscribe(client, channel)
        if kind == "notifications":
            state.hub.subscribe(client, role_channel(client.role))
    if kind == "book" and token is not None:
        client.offer(await _snapshot(state, token))
    if op == "subscribe":
        client.offer(json_text({"type": "subscribed", "channel": channel}))


def _error(code: str, detail: str) -> str:
    return json_text({"type": "error", "code": code, "detail": detail})


def _token(state: ServerState, symbol: str) -> Token:
    check_value(symbol, "channel")  # the edge's rules, as on every HTTP route
    with state.db.begin() as conn:
        return get_token(conn, symbol)


async def _snapshot(state: ServerState, token: Token) -> str:
    feeds = state.feeds
    if not feeds.published(token.symbol):  # nothing traded since the server started
        levels = await asyncio.wrap_future(state.writer.call(book_levels, token.id, token.tick_size))
        if levels is not None and not feeds.published(token.symbol):
            feeds.update(token.symbol, levels)
    return feeds.snapshot(token.symbol)
