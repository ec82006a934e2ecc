"""A WebSocket connection holds at most settings.server.ws_max_subscriptions channels, and a
channel name is checked before anything else (server/routes/stream.py)."""

from __future__ import annotations

import pytest
from platform_builders import live_token
from server_client import running_api


@pytest.fixture
def capped(platform, chain_client, engine, db_url, tmp_path):  # noqa: ANN001, ANN201
    live_token(platform, chain_client, "DATE", {"alice": 10})
    live_token(platform, chain_client, "FIG", {"bob": 10})
    with running_api(engine, db_url, tmp_path / "home", platform.admin,
                     ws_max_subscriptions=2) as api:
        yield api


def _ask(socket, channel: object, op: str = "subscribe") -> dict:  # noqa: ANN001
    socket.send_json({"op": op, "channel": channel})
    answer = socket.receive_json()
    while answer["type"] == "snapshot":  # a book's snapshot comes before its confirmation
        answer = socket.receive_json()
    return answer


def test_subscriptions_over_the_cap_are_refused_with_a_code(capped) -> None:  # noqa: ANN001
    key = capped.key("alice@x.io")
    with capped.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        assert _ask(socket, "book:DATE")["type"] == "subscribed"
        assert _ask(socket, "trades:DATE")["type"] == "subscribed"
        assert _ask(socket, "trades:DATE")["type"] == "subscribed"  # again: not one more
        over = _ask(socket, "orders")
        assert (over["type"], over["code"]) == ("error", "too_many_subscriptions")
        assert "2" in over["detail"]
        socket.send_json({"op": "unsubscribe", "channel": "book:DATE"})  # not answered
        assert _ask(socket, "trades:FIG")["type"] == "subscribed"  # room again
        socket.send_json({"op": "snapshot", "channel": "book:FIG"})  # no subscription: allowed
        assert socket.receive_json()["type"] == "snapshot"


@pytest.mark.parametrize("channel", [
    "book:" + "A" * 65, "x" * 10_000, "book:DA TE", "book:DATE\x00", "book:DÄTE", "book:",
    "orders:../x", "BOOK:DATE", 42, None, ["book:DATE"], {"a": 1}, "book:DATE:extra",
])
def test_bad_channel_names_are_refused(api, platform, channel: object) -> None:  # noqa: ANN001
    platform.approved("ivy")
    key = api.key("ivy@x.io")
    with api.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        refused = _ask(socket, channel)
        assert (refused["type"], refused["code"]) == ("error", "invalid_channel")
        assert len(refused["detail"]) < 200  # the name is not echoed back
        assert _ask(socket, "orders")["type"] == "subscribed"  # still serving


def test_every_error_has_a_code(api, platform) -> None:  # noqa: ANN001
    platform.approved("ivy")
    key = api.key("ivy@x.io")
    with api.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        socket.send_text("not json")
        assert socket.receive_json()["code"] == "invalid_message"
        assert _ask(socket, "book:DATE", op="dance")["code"] == "invalid_message"
        assert _ask(socket, "nope:DATE")["code"] == "unknown_channel"
        assert _ask(socket, "book:NOPE")["code"] == "not_found"
        assert _ask(socket, "orders:0190")["code"] == "forbidden"
