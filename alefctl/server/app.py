"""The app factory: settings in, a FastAPI app out, with its database, books and workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from alefctl import __version__
from alefctl.server.auth import KeyCache
from alefctl.server.feeds import BookFeeds
from alefctl.server.hub import Hub
from alefctl.server.listener import TradingListener
from alefctl.server.metrics import Metrics
from alefctl.server.order_path import OrderFastPath
from alefctl.server.problems import install_problem_handlers
from alefctl.server.requests import close_orders_of_closed_tokens, handle_request
from alefctl.server.routes import businesses, dividends, kyc, orders, settlement, stream, system, tokens
from alefctl.server.settlement_loop import start_settlement_loop, stop_settlement_loop
from alefctl.server.writer import OrderWriter, Writer
from alefctl.server.writer_process import WriterProcess
from alefctl.workflows.trading.funds import NotionalLimits

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.settings import Settings


def create_app(settings: Settings, db: Engine | None = None) -> FastAPI:
    """Build the server; it connects (or uses `db`) when it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from alefctl.db import connect
        from alefctl.db.guard import ensure_schema_current
        from alefctl.pii import load_cipher

        owns_engine = db is None
        app.state.db = db or connect(settings)
        ensure_schema_current(app.state.db, settings)
        app.state.cipher = load_cipher(settings)
        app.state.writer = _start_writer(app, settings)
        listener = TradingListener(app.state.db, lambda request: handle_request(app, request))
        listener.start()
        close_orders_of_closed_tokens(app)
        start_settlement_loop(app, settings)
        try:
            yield
        finally:
            stop_settlement_loop(app)
            listener.stop()
            app.state.writer.stop()
            if owns_engine:
                app.state.db.dispose()

    app = AlefAPI(title="alefctl", version=__version__, lifespan=lifespan,
                  description="Investor order API and platform endpoints of alefctl.")
    app.state.settings = settings
    app.state.key_cache = KeyCache()
    app.state.metrics = Metrics()
    app.state.hub = Hub()
    app.state.feeds = BookFeeds()
    install_problem_handlers(app)
    for module in (orders, stream, system, kyc, businesses, tokens, settlement, dividends):
        app.include_router(module.router)
    return app


class AlefAPI(FastAPI):
    """FastAPI behind the order fast path: place and cancel are answered before any of FastAPI's
    own layers (its error, telemetry and body-limit middleware run per request, and cost more
    than the answer)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._fast_path = OrderFastPath(super().__call__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self._fast_path(scope, receive, send)


def _start_writer(app: FastAPI, settings: Settings) -> Writer:
    """The order writer (a process of its own unless settings say a thread), publishing each
    committed group to the WebSocket hub."""
    loop = asyncio.get_running_loop()

    def publish(report: dict) -> None:
        messages = app.state.feeds.messages(report)
        app.state.metrics.trades.inc(len(report["trades"]))
        app.state.metrics.group_size.observe(report["size"])
        app.state.metrics.commit_time.observe(report["commit"])
        loop.call_soon_threadsafe(app.state.hub.broadcast, messages)

    grouped, max_group = settings.server.group_commit, settings.server.max_group
    writer: Writer
    if settings.server.writer_process:
        writer = WriterProcess(settings, publish, grouped=grouped, max_group=max_group)
    else:
        writer = OrderWriter(app.state.db, NotionalLimits.from_settings(settings.trading), publish,
                             grouped=grouped, max_group=max_group)
    writer.start()
    return writer
