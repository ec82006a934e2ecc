"""The server's state: one typed object, built when the server starts and stored once on the app.

Routes, the order fast path, the WebSocket stream, the trading listener and the settlement loop
read it through `server_state`, not as attributes of Starlette's untyped `app.state`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from alefctl.pii import PiiCipher
    from alefctl.server.auth import KeyCache
    from alefctl.server.deploys import Deployments
    from alefctl.server.feeds import BookFeeds
    from alefctl.server.halts import HaltAnnouncer
    from alefctl.server.hub import Hub
    from alefctl.server.lifetime_loop import LifetimeLoop
    from alefctl.server.metrics import Metrics
    from alefctl.server.settlement_loop import SettlementLoop
    from alefctl.server.writer import Writer
    from alefctl.settings import Settings
    from chain import ChainClient


@dataclass
class ServerState:
    """What one running server shares between its requests and its background threads."""

    settings: Settings
    db: Engine
    cipher: PiiCipher
    writer: Writer  # the order writer: a thread, or a process of its own
    key_cache: KeyCache
    metrics: Metrics
    hub: Hub  # WebSocket subscriptions
    feeds: BookFeeds  # the book depth last published per token
    halts: HaltAnnouncer  # halts and resumes on the tokens' public channels
    chain_opener: Callable[[], ChainClient] | None = None  # replaces open_chain (tests)
    settlement_loop: SettlementLoop | None = None  # None when switched off
    lifetime_loop: LifetimeLoop | None = None  # expiry and dead-man's switches, once started
    deployments: Deployments = field(default_factory=lambda: _deployments())  # started over HTTP


def _deployments() -> Deployments:
    from alefctl.server.deploys import Deployments

    return Deployments()


def store_server_state(app: Starlette, state: ServerState) -> None:
    """Keep the state of a started server on its app (once, when it starts)."""
    app.state.server = state


def server_state(source: HTTPConnection | Starlette) -> ServerState:
    """The state of the server that a request or WebSocket reached, or of an app."""
    app = source.app if isinstance(source, HTTPConnection) else source
    state: ServerState = app.state.server
    return state
