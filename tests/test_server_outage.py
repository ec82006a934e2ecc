"""A database outage under a running server: 503 problem+json `unavailable`, never a 500.

The test runs its own embedded PostgreSQL (not the session's, which other tests share) and
stops it while the app is serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_builders import build_platform
from server_client import running_api
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from alefctl.db import embedded
from alefctl.db.schema import init_schema

PROBLEM = "application/problem+json"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A dedicated embedded PostgreSQL with the schema: (url, pgdata); stopped at the end."""
    pgdata = tmp_path / "pgdata"
    url = embedded.embedded_url(pgdata)
    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            init_schema(conn)
        engine.dispose()
        yield url, pgdata
    finally:
        embedded.stop(pgdata)


def _assert_unavailable(response) -> None:  # noqa: ANN001
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"].isdigit()
    assert response.json()["code"] == "unavailable"


def test_stopped_database_answers_503_unavailable(own_server, tmp_path: Path) -> None:  # noqa: ANN001
    url, pgdata = own_server
    engine: Engine = create_engine(url, pool_pre_ping=True)
    platform = build_platform(engine)
    platform.approved("ivy")
    with running_api(engine, url, tmp_path / "home", platform.admin) as api:
        api.key("ivy@x.io")
        assert api.call("GET", "/api/v1/tokens", "admin@x.io").status_code == 200
        assert api.call("GET", "/api/v1/orders", "ivy@x.io").status_code == 200
        unused_key = api.key("issuer@x.io")  # never looked up by the server: not cached

        assert embedded.stop(pgdata)  # the server under the running app goes away

        # A cached key: the route's own transaction finds no database.
        _assert_unavailable(api.call("GET", "/api/v1/tokens", "admin@x.io"))
        _assert_unavailable(api.call("GET", "/api/v1/orders?status=open", "ivy@x.io"))
        # The order fast path (POST /orders, answered in front of FastAPI) and the writer.
        _assert_unavailable(api.call("POST", "/api/v1/orders", "ivy@x.io", json={
            "token_id": "NOPE", "side": "buy", "quantity": 1, "price": "1.00"}))
        # A key not in the cache: its lookup needs the database.
        _assert_unavailable(api.call("GET", "/api/v1/tokens",
                                     headers={"Authorization": f"Bearer {unused_key}"}))
        ready = api.call("GET", "/readyz")
        assert ready.status_code == 503 and ready.json()["code"] == "unavailable"
    engine.dispose()
