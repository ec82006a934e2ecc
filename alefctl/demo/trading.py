"""Demo stage 4: `alefctl serve` started in-process; investors trade through its HTTP API."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine

from alefctl.demo.report import DemoReport, acting
from alefctl.errors import AlefError
from alefctl.settings import Settings
from alefctl.workflows.api_keys import create_api_key

ORDERS = (
    # investor, side, quantity, price
    ("alice", "sell", 100, "10.50"),
    ("bob", "sell", 50, "10.75"),
    ("erin", "buy", 40, "10.20"),
    ("carol", "buy", 120, "10.75"),
    ("erin", "buy", 30, "10.30"),
)


@contextmanager
def running_server(settings: Settings) -> Iterator[str]:
    """uvicorn serving the app on a free loopback port, in a thread; yields the base URL."""
    import uvicorn

    from alefctl.server import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The demo settles its trades itself, in the next stage, so that it can report them.
    quiet = settings.model_copy(update={"server": settings.server.model_copy(
        update={"settlement_loop": False})})
    server = uvicorn.Server(uvicorn.Config(create_app(quiet), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AlefError("the demo server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def trading(engine: Engine, report: DemoReport, settings: Settings) -> None:
    """Place the demo's orders over HTTP and keep the resulting trades and book."""
    import httpx

    admin = acting(engine, report.email("ada"))
    keys = {}
    with engine.begin() as conn:
        for short in {name for name, *_ in ORDERS}:
            keys[short] = create_api_key(conn, admin, report.email(short), "demo")[1]
    symbol = report.token["symbol"]
    with running_server(settings) as base, httpx.Client(base_url=base, timeout=30) as http:
        report.step(f"alefctl serve started in-process at {base}")
        for short, side, quantity, price in ORDERS:
            response = http.post("/api/v1/orders", headers={"Authorization": f"Bearer {keys[short]}"},
                                 json={"token_id": symbol, "side": side, "quantity": quantity,
                                       "price": price, "order_type": "limit"})
            body: dict[str, Any] = response.json()
            if response.status_code >= 400:
                report.step(f"{short} {side} {quantity} @ {price}: refused ({body.get('detail')})")
                continue
            fills = body.get("trades", [])
            report.step(f"{short} {side} {quantity} @ {price}: {body['status']}"
                        + (f", {sum(f['quantity'] for f in fills)} filled" if fills else ""))
        report.book = http.get(f"/api/v1/orderbook/{symbol}",
                               headers={"Authorization": f"Bearer {keys['carol']}"}).json()
        for short in sorted(keys):
            mine = http.get("/api/v1/trades", headers={"Authorization": f"Bearer {keys[short]}"})
            report.trades.extend({"investor": short, **t} for t in mine.json() if t["side"] == "buy")
