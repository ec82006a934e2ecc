"""The README's order API and WebSocket sections say what the code does: the body's fields and
their defaults are the request model's, the example answer has the answer's fields, every
message type the server sends is documented, and the WebSocket answers as documented."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pydantic import TypeAdapter

from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.state import OrderState

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    """A README section, from its heading to the next heading of any level."""
    start = README.index(f"\n### {title}\n")
    end = re.search(r"\n#{2,3} ", README[start + 1:])
    return README[start: start + 1 + end.start()] if end else README[start:]


def body_rows() -> dict[str, str]:
    """The order body table: field -> its `required` cell."""
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|", section("The order API"), re.M)
    return {name: required.strip() for name, required in rows}


def test_the_documented_body_is_the_request_model() -> None:
    schema = TypeAdapter(OrderRequest).json_schema(by_alias=True)
    rows = body_rows()
    assert list(rows) == list(schema["properties"])  # every field, in the model's order
    for name, required in rows.items():
        assert (required == "yes") == (name in schema["required"]), name
        default = re.fullmatch(r"no \(`(\w+)`\)", required)
        if default is not None:
            assert json.dumps(schema["properties"][name]["default"]).strip('"') == \
                default.group(1), name
        elif required != "yes":
            assert schema["properties"][name].get("default") is None, name


def test_the_example_answer_has_the_answers_fields() -> None:
    text = section("The order API")
    answer = json.loads(text.split("201 Created\n", 1)[1].split("```", 1)[0])
    order = OrderState(id=1, user_id=2, token_id=3, side="buy", order_type="limit", quantity=1,
                       price=Decimal("1.00"), stop_price=None, time_in_force="GTC",
                       stp_mode="cancel_taker", client_order_id=None,
                       created_at=datetime.now(UTC), status="open")
    assert set(answer) == set(order.public("DATE"))
    assert set(answer["trades"][0]) == {"trade_id", "price", "quantity"}


def test_every_message_type_the_server_sends_is_documented() -> None:
    sources = "".join((ROOT / "alefctl" / name).read_text()
                      for name in ("server/feeds.py", "server/routes/stream.py",
                                   "workflows/halts.py"))
    sent = set(re.findall(r'"type": "(\w+)"', sources))
    documented = set(re.findall(r'^\{"type": "(\w+)"', section("WebSocket"), re.M))
    assert sent == documented == {"subscribed", "snapshot", "delta", "trade", "order", "error",
                                  "halt", "resume"}


def test_the_websocket_answers_as_documented(market) -> None:  # noqa: ANN001
    with market.client.websocket_connect(
            "/api/v1/ws", headers={"Authorization": f"Bearer {market.key('carol@x.io')}"}) as ws:
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json(["subscribe"])
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"op": "subscribe", "channel": "book:NOPE"})
        assert ws.receive_json() == {"type": "error", "code": "not_found",
                                     "detail": "token not found: NOPE"}
        ws.send_json({"op": "subscribe", "channel": "trades:DATE"})
        assert ws.receive_json() == {"type": "subscribed", "channel": "trades:DATE"}
        ws.send_json({"op": "unsubscribe", "channel": "trades:DATE"})  # not answered
        ws.send_json({"op": "snapshot", "channel": "book:DATE"})  # the book, not a subscription
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_json({"op": "dance"})
        assert ws.receive_json()["type"] == "error"  # next: nothing came in between
        assert market.call("POST", "/api/v1/orders", "alice@x.io", json={  # no book, no trades
            "token_id": "DATE", "side": "sell", "quantity": 1, "price": "10.00"}).status_code == 201
        ws.send_json({"op": "subscribe", "channel": "orders:someone-else"})
        refused = ws.receive_json()
        assert (refused["type"], refused["code"]) == ("error", "forbidden")


def test_amend_and_the_switch_are_documented_as_they_are(market) -> None:  # noqa: ANN001
    """OpenAPI gives PATCH its amend body and cancel-all-after its timeout; the README names
    every field of the amend body and the switch's answer."""
    from alefctl.workflows.orders import AmendRequest

    paths = market.call("GET", "/openapi.json").json()["paths"]
    amend_body = paths["/api/v1/orders/{order_id}"]["patch"]["requestBody"]
    fields = TypeAdapter(AmendRequest).json_schema()["properties"]
    assert set(amend_body["content"]["application/json"]["schema"]["properties"]) == set(fields)
    assert "/api/v1/orders/cancel-all-after" in paths
    text = section("The order API")
    for name in (*fields, "timeout_s", "armed", "deadline", "expire_at", "expired",
                 "cancel_all_after"):
        assert f"`{name}`" in text or f'"{name}"' in text, name
    switch = market.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io",
                         json={"timeout_s": 30}).json()
    assert set(switch) == {"armed", "timeout_s", "deadline"}
