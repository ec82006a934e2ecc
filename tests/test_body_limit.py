"""Request bodies over settings.server.max_body_bytes are refused (413) before they are read,
on every route, before authentication (server/body_limit.py)."""

from __future__ import annotations

import asyncio
import json

import pytest

from alefctl.server import create_app
from alefctl.settings import load_settings

LIMIT = 4096
CHUNK = 1024


class Client:
    """An anonymous ASGI client whose body never ends: it counts what the server pulled."""

    def __init__(self, length: int | None) -> None:
        self.length = length
        self.pulled = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        self.pulled += CHUNK
        if self.pulled > 100 * LIMIT:
            raise AssertionError("the server kept reading an oversized body")
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def call(self, app, method: str, path: str) -> tuple[int, dict, dict]:  # noqa: ANN001
        headers = [(b"content-type", b"application/json")]
        if self.length is not None:
            headers.append((b"content-length", str(self.length).encode()))
        else:
            headers.append((b"transfer-encoding", b"chunked"))
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": b"", "headers": headers, "http_version": "1.1",
                 "scheme": "http", "server": ("test", 80), "client": ("test", 1), "root_path": ""}
        asyncio.run(app(scope, self.receive, self.send))
        start = self.sent[0]
        body = b"".join(m.get("body", b"") for m in self.sent[1:])
        return start["status"], dict(start["headers"]), json.loads(body)


@pytest.fixture
def app(tmp_path):  # noqa: ANN001, ANN201
    # Not started: the refusal needs neither the database nor a key.
    return create_app(load_settings(home=tmp_path, server={"max_body_bytes": LIMIT}))


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/tokens"),  # FastAPI parses the body
    ("POST", "/api/v1/orders"),  # the order fast path
    ("POST", "/api/v1/admin/tokens/DATE/start-offering"),
])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_oversized_anonymous_bodies_are_refused_unread(app, method: str, path: str,  # noqa: ANN001
                                                       declared: bool) -> None:
    client = Client(10**9 if declared else None)
    status, headers, body = client.call(app, method, path)
    assert status == 413
    assert headers[b"content-type"] == b"application/problem+json"
    assert body["code"] == "payload_too_large"
    assert str(LIMIT) in body["detail"]
    if declared:
        assert client.pulled == 0  # not one byte received
    else:
        assert client.pulled <= LIMIT + CHUNK  # stopped at the first chunk past the limit


def test_a_route_that_reads_no_body_reads_none_of_it(app) -> None:  # noqa: ANN001
    for method, path, answer in [("PUT", "/api/v1/nothing-here", 404), ("GET", "/healthz", 200)]:
        client = Client(None)
        status, _headers, _body = client.call(app, method, path)
        assert status == answer
        assert client.pulled == 0


def test_a_body_within_the_limit_reaches_the_route(api) -> None:  # noqa: ANN001
    body = {"business_id": "b", "name": "x" * 2000}
    answer = api.call("POST", "/api/v1/tokens", json=body)
    assert answer.status_code == 401, answer.text  # authentication, after the body was read
    oversized = api.call("POST", "/api/v1/tokens", content=b"{" + b" " * (64 * 1024) + b"}")
    assert oversized.status_code == 413
    assert oversized.json()["code"] == "payload_too_large"

    def chunks():  # noqa: ANN202  (httpx sends a generator chunked, without Content-Length)
        for _ in range(100):
            yield b" " * 1024

    chunked = api.call("POST", "/api/v1/kyc", content=chunks())
    assert chunked.status_code == 413
    assert chunked.json()["code"] == "payload_too_large"
