"""The app factory: settings in, a FastAPI app out, with its database, books and workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from alefctl import __version__
from alefctl.server.auth import KeyCache
from alefctl.server.metrics import Metrics
from alefctl.server.problems import install_problem_handlers
from alefctl.server.routes import businesses, kyc, system, tokens

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
        try:
            yield
        finally:
            if owns_engine:
                app.state.db.dispose()

    app = FastAPI(title="alefctl", version=__version__, lifespan=lifespan,
                  description="Investor order API and platform endpoints of alefctl.")
    app.state.settings = settings
    app.state.key_cache = KeyCache()
    app.state.metrics = Metrics()
    install_problem_handlers(app)
    for module in (system, kyc, businesses, tokens):
        app.include_router(module.router)
    return app
