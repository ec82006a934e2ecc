"""The app factory: settings in, a FastAPI app out, with its database, books and workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from alefctl import __version__
from alefctl.redact import install_log_redaction
from alefctl.server.auth import KeyCache
from alefctl.server.body_limit import BodyLimit
from alefctl.server.feeds import BookFeeds
from alefctl.server.halts import HaltAnnouncer
from alefctl.server.hub import Hub
from alefctl.server.lifetime_loop import start_lifetime_loop, stop_lifetime_loop
from alefctl.server.listener import TradingListener
from alefctl.server.metrics import Metrics
from alefctl.server.order_path import OrderFastPath
from alefctl.server.problems import install_problem_handlers
from alefctl.server.rate_limit import RateLimit, RateLimiter
from alefctl.server.record_dates import start_record_date_loop
from alefctl.server.requests import (
    announce_halts_in_force,
    close_orders_of_closed_tokens,
    close_orders_of_ineligible_traders,
    handle_request,
)
from alefctl.server.routes import (
    approvals,
    businesses,
    custody,
    dividends,
    holders,
    kyc,
    me,
    notifications,
    orders,
    register,
    settlement,
    stream,
    surveillance,
    system,
    tokens,
    users,
    wallets,
    withdrawals,
)
from alefctl.server.notification_push import start_notification_push
from alefctl.server.settlement_loop import start_settlement_loop, stop_settlement_loop
from alefctl.server.state import ServerState, store_server_state
from alefctl.server.writer import OrderWriter, Writer
from alefctl.server.webhook_loop import start_webhook_loop
from alefctl.server.writer_process import WriterProcess
from alefctl.workflows.protections import ProtectionDefaults
from alefctl.workflows.rate_limits import Limits
from alefctl.workflows.trading.funds import NotionalLimits

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.settings import Settings
    from chain import ChainClient

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(settings: Settings, db: Engine | None = None, *,
               chain_opener: Callable[[], ChainClient] | None = None) -> FastAPI:
    """Build the server; it connects (or uses `db`) when it starts. `chain_opener` replaces
    open_chain for the settlement loop and deployments (tests give theirs). Its logs, and
    uvicorn's, are redacted (no API key in a logged URL, no personal data: alefctl/redact.py)."""
    install_log_redaction()
    app = AlefAPI(title="alefctl", version=__version__, lifespan=_lifespan(settings, db, chain_opener),
                  description="Investor order API and platform endpoints of alefctl.",
                  max_body_bytes=settings.server.max_body_bytes)
    install_problem_handlers(app)
    for module in (orders, stream, system, kyc, businesses, tokens, settlement, dividends,
                   approvals, surveillance, users, me, withdrawals, holders, register,
                   custody, notifications, wallets):
        app.include_router(module.router)
    return app


def _lifespan(settings: Settings, db: Engine | None,
              chain_opener: Callable[[], ChainClient] | None) -> Lifespan:
    """Start the server's state, the trading listener, the settlement and the order lifetime
    loops; stop them in reverse order."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = _start(settings, db, chain_opener)
        store_server_state(app, state)
        listener = TradingListener(state.db, lambda request: handle_request(state, request))
        listener.start()
        close_orders_of_closed_tokens(state)
        close_orders_of_ineligible_traders(state)
        announce_halts_in_force(state)
        start_settlement_loop(state)
        start_lifetime_loop(state)
        record_dates = start_record_date_loop(state)
        pushes = start_notification_push(state)
        webhooks = start_webhook_loop(state)
        try:
            yield
        finally:
            if webhooks is not None:
                webhooks.stop()
            pushes.stop()
            record_dates.stop()
            stop_lifetime_loop(state)
            stop_settlement_loop(state)
            listener.stop()
            state.writer.stop()
            if state.rate_limiter is not None:
                state.rate_limiter.close()
            if db is None:  # the server's own engine
                state.db.dispose()

    return lifespan


class AlefAPI(FastAPI):
    """FastAPI behind the body limit (server/body_limit.py), the rate limits
    (server/rate_limit.py) and the order fast path: place and cancel are answered before any of
    FastAPI's own layers (its error and telemetry middleware run per request, and cost more than
    the answer)."""

    def __init__(self, *, max_body_bytes: int, **options: Any) -> None:
        super().__init__(**options)
        self._edge = BodyLimit(RateLimit(OrderFastPath(super().__call__)), max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self._edge(scope, receive, send)


def _start(settings: Settings, db: Engine | None,
           chain_opener: Callable[[], ChainClient] | None) -> ServerState:
    """The server's state: its database (connected unless given) with the current schema, and
    its order writer started."""
    from alefctl.db import connect
    from alefctl.db.guard import ensure_schema_current
    from alefctl.pii import load_cipher

    engine = db or connect(settings)
    ensure_schema_current(engine, settings)
    cipher = load_cipher(settings)
    metrics, hub, feeds = Metrics(), Hub(), BookFeeds()
    halts = HaltAnnouncer(hub, asyncio.get_running_loop())
    writer = _start_writer(settings, engine, _publisher(metrics, hub, feeds, halts))
    limits = settings.ratelimit
    limiter = (RateLimiter(engine, Limits.from_settings(limits), metrics, limits.refusal_pause_s)
               if limits.enabled else None)
    return ServerState(settings=settings, db=engine, cipher=cipher, writer=writer,
                       key_cache=KeyCache(), metrics=metrics, hub=hub, feeds=feeds, halts=halts,
                       chain_opener=chain_opener, rate_limiter=limiter)


def _publisher(metrics: Metrics, hub: Hub, feeds: BookFeeds,
               halts: HaltAnnouncer) -> Callable[[dict], None]:
    """What the order writer calls with each committed group's report (from its thread): the
    metrics, and the group's messages broadcast to the WebSocket hub on the event loop, then the
    halts its circuit breakers set."""
    loop = asyncio.get_running_loop()

    def publish(report: dict) -> None:
        messages = feeds.messages(report)
        metrics.trades.inc(len(report["trades"]))
        metrics.group_size.observe(report["size"])
        metrics.commit_time.observe(report["commit"])
        loop.call_soon_threadsafe(hub.broadcast, messages)
        for halt in report.get("halts", ()):
            halts.announce(halt)

    return publish


def _start_writer(settings: Settings, db: Engine, publish: Callable[[dict], None]) -> Writer:
    """The order writer (a process of its own unless settings say a thread), started."""
    grouped, max_group = settings.server.group_commit, settings.server.max_group
    writer: Writer
    if settings.server.writer_process:
        writer = WriterProcess(settings, publish, grouped=grouped, max_group=max_group)
    else:
        writer = OrderWriter(db, NotionalLimits.from_settings(settings.trading, settings.lifetime),
                             publish, grouped=grouped, max_group=max_group,
                             protections=ProtectionDefaults.from_settings(settings.protections))
    writer.start()
    return writer
