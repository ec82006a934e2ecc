"""The routes that take most of the traffic, place, cancel and amend an order, answered as
plain ASGI in front of FastAPI (app.AlefAPI).

Under load FastAPI's middleware, router, dependency solving and request objects cost the
server more CPU per order than the rest of the request. OrderFastPath answers these routes
itself and passes every other request on; the FastAPI routes of the same paths
(routes/orders.py) document them in OpenAPI and run the same functions, so both give the same
answers and the same problems.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from alefctl.server.problems import problem_for
from alefctl.server.routes.orders import amend_order, cancel_order, place_order

ORDERS_PATH = "/api/v1/orders"

Route = Callable[[Any, str, Receive], Awaitable[Response]]


class OrderFastPath:
    """ASGI wrapper: POST /api/v1/orders, DELETE and PATCH /api/v1/orders/{id} answered here
    (the application is scope["app"])."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _order_route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        authorization = next((value.decode("latin-1") for name, value in scope["headers"]
                              if name == b"authorization"), "")
        try:
            response = await route(scope["app"], authorization, receive)
        except Exception as exc:  # every error becomes its problem response, as in FastAPI
            response = problem_for(exc)
        await response(scope, receive, send)


def _order_route(scope: Scope) -> Route | None:
    """The route of an order request, or None for any other request."""
    method, path = scope["method"], scope["path"]
    if method == "POST" and path == ORDERS_PATH:
        return _place
    if method in ("DELETE", "PATCH") and path.startswith(ORDERS_PATH + "/"):
        order_id = path[len(ORDERS_PATH) + 1:]
        if not order_id or "/" in order_id:
            return None
        if method == "PATCH":
            return lambda app, authorization, receive: _amend(app, authorization, order_id, receive)
        return lambda app, authorization, _receive: cancel_order(app, authorization, order_id)
    return None


async def _place(app: Any, authorization: str, receive: Receive) -> Response:
    return await place_order(app, authorization, await _body(receive))


async def _amend(app: Any, authorization: str, order_id: str, receive: Receive) -> Response:
    return await amend_order(app, authorization, order_id, await _body(receive))


async def _body(receive: Receive) -> bytes:
    """The request body (its size is limited before: server/body_limit.py)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b""
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
