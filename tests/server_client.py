"""An in-process HTTP client for the server on this test's database, with API keys per user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from alefctl.server import create_app
from alefctl.settings import load_settings
from alefctl.workflows.actor import Actor
from alefctl.workflows.api_keys import create_api_key


class Api:
    """HTTP calls as a given user."""

    def __init__(self, client: TestClient, engine: Engine, admin: Actor):
        self.client = client
        self.engine = engine
        self.admin = admin
        self.keys: dict[str, str] = {}

    def key(self, email: str) -> str:
        """A bearer key for a user, created on first use."""
        if email not in self.keys:
            with self.engine.begin() as conn:
                self.keys[email] = create_api_key(conn, self.admin, email, "tests")[1]
        return self.keys[email]

    def call(self, method: str, path: str, as_user: str | None = None, **kwargs):  # noqa: ANN003, ANN201
        """An HTTP request, authenticated as as_user (email) when given."""
        headers = kwargs.pop("headers", {})
        if as_user:
            headers["Authorization"] = f"Bearer {self.key(as_user)}"
        return self.client.request(method, path, headers=headers, **kwargs)


@contextmanager
def running_api(engine: Engine, db_url: str, home: Path, admin: Actor,
                **server: object) -> Iterator[Api]:
    """The app started (lifespan run) on this test's database; `server` overrides settings."""
    # No settlement loop: these tests look at trades as the order path leaves them.
    settings = load_settings(home=home, database={"url": db_url},
                             server={"settlement_loop": False, **server})
    with TestClient(create_app(settings, engine)) as client:
        yield Api(client, engine, admin)


def place(api: Api, who: str, side: str, quantity: int, price: str | None = None,
          order_type: str = "limit", token: str = "DATE", **extra: object):  # noqa: ANN201
    """POST /api/v1/orders as who@x.io."""
    body = {"token_id": token, "side": side, "order_type": order_type, "quantity": quantity,
            **({"price": price} if price else {}), **extra}
    return api.call("POST", "/api/v1/orders", f"{who}@x.io", json=body)
