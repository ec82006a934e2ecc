"""The WebSocket hub encodes a message once for all its subscribers, and not at all without any."""

from __future__ import annotations

import json
from decimal import Decimal

from alefctl.server.hub import Client, Hub


def test_a_message_is_encoded_once_for_its_subscribers_and_never_without_any() -> None:
    hub = Hub()
    alice, bob = Client(None, "alice"), Client(None, "bob")  # type: ignore[arg-type]
    for client in (alice, bob):
        hub.subscribe(client, "trades:DATE")
    hub.subscribe(alice, "orders:alice")
    hub.unsubscribe(alice, "orders:alice")
    cannot_encode = {"type": "order", "order": object()}  # encoding it would raise
    hub.broadcast([("orders:alice", cannot_encode), ("orders:carol", cannot_encode),
                   ("trades:DATE", {"type": "trade", "price": Decimal("10.50")}),
                   ("trades:DATE", '{"type":"delta"}')])
    first, second = alice.outbox.get_nowait(), bob.outbox.get_nowait()
    assert first is second and json.loads(first) == {"type": "trade", "price": "10.50"}
    assert alice.outbox.get_nowait() == bob.outbox.get_nowait() == '{"type":"delta"}'
    assert alice.outbox.empty() and bob.outbox.empty()
