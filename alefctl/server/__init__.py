"""`alefctl serve`: the HTTP + WebSocket API, the matching engine and the background workers."""

from alefctl.server.app import create_app

__all__ = ["create_app"]
