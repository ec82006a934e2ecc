"""The investor order API: place, list, amend, cancel (one, all, or all after a timeout);
order book; own trades."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.applications import Starlette

from alefctl.errors import Conflict, NotFound
from alefctl.server.auth import acting, bearer_actor
from alefctl.server.edge import EdgeRoute, check_value
from alefctl.server.routes import body_schema, out, parse_body, render, transaction
from alefctl.server.state import server_state
from alefctl.workflows import orders, otc, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import get_token
from alefctl.workflows.trading.books import depth_and_last
from alefctl.workflows.trading.commands import AmendOrder, CancelOrder, PlaceOrder
from alefctl.workflows.trading.control import trader_open_order_ids
from alefctl.workflows.trading.lifetime import arm_cancel_all_after

router = APIRouter(prefix="/api/v1", tags=["orders"], route_class=EdgeRoute)


# Placing and cancelling are answered by the order fast path (server/order_path.py) in front of
# these routes, through place_order and cancel_order; the dependencies name their action here.
@router.post("/orders", status_code=201, openapi_extra=body_schema(orders.OrderRequest),
             responses={200: {"description": "the original order, for a resent client_order_id"}},
             dependencies=[Depends(acting("order.place"))])
async def place(request: Request) -> Response:
    """Place an order; 201 with its fills, or 200 with the original for a resent client_order_id."""
    return await place_order(request.app, request.headers.get("authorization", ""),
                             await request.body())


async def place_order(app: Starlette, authorization: str, body: bytes) -> Response:
    """The place route, for FastAPI and for the order fast path (server/order_path.py)."""
    state = server_state(app)
    actor = await bearer_actor(state, authorization)
    policy.require(actor, "order.place")
    order = parse_body(orders.OrderRequest, body)
    orders.check_order_shape(order)
    metrics = state.metrics
    started = time.perf_counter()
    try:
        result = await asyncio.wrap_future(state.writer.submit(PlaceOrder(actor, order)))
    except Exception:
        metrics.orders.labels("refused").inc()
        raise
    metrics.order_latency.observe(time.perf_counter() - started)
    metrics.orders.labels("accepted").inc()
    return render(result, 200 if result.get("duplicate") else 201)


@router.get("/orders")
def list_own(request: Request, status: str | None = None, token: str | None = None,
             actor: Actor = Depends(acting("order.read"))) -> list:
    """The caller's orders, newest first."""
    with transaction(request) as conn:
        return out(orders.list_orders(conn, actor, status=status, token=token))


@router.get("/orders/{order_id}")
def show(order_id: str, request: Request, actor: Actor = Depends(acting("order.read"))) -> dict:
    """One of the caller's orders (admins: any order)."""
    owner = None if policy.may(actor, "order.read.others") else actor.user_id
    with transaction(request) as conn:
        return out(orders.get_order(conn, order_id, owner=owner))


@router.delete("/orders/{order_id}", dependencies=[Depends(acting("order.cancel"))])
async def cancel(order_id: str, request: Request) -> Response:
    """Cancel an open order; its locked money or tokens come back."""
    return await cancel_order(request.app, request.headers.get("authorization", ""), order_id)


async def cancel_order(app: Starlette, authorization: str, order_id: str) -> Response:
    """The cancel route, for FastAPI and for the order fast path (server/order_path.py)."""
    state = server_state(app)
    actor = await bearer_actor(state, authorization)
    policy.require(actor, "order.cancel")
    check_value(order_id, "order_id")
    return render(await asyncio.wrap_future(state.writer.submit(CancelOrder(actor, order_id))))


@router.patch("/orders/{order_id}", openapi_extra=body_schema(orders.AmendRequest),
              dependencies=[Depends(acting("order.amend"))])
async def amend(order_id: str, request: Request) -> Response:
    """Amend an open limit order: quantity down keeps its time priority, a new price loses it
    (it may trade at once); its locked money or tokens follow. 422 for a higher quantity, 409
    for an order no longer open or a pending stop."""
    return await amend_order(request.app, request.headers.get("authorization", ""), order_id,
                             await request.body())


async def amend_order(app: Starlette, authorization: str, order_id: str, body: bytes) -> Response:
    """The amend route, for FastAPI and for the order fast path (server/order_path.py)."""
    state = server_state(app)
    actor = await bearer_actor(state, authorization)
    policy.require(actor, "order.amend")
    check_value(order_id, "order_id")
    change = parse_body(orders.AmendRequest, body)
    command = AmendOrder(actor, order_id, change.quantity, change.price,
                         change.confirm_fat_finger, change.confirm_nav_deviation)
    return render(await asyncio.wrap_future(state.writer.submit(command)))


class CancelAllAfter(BaseModel):
    """Arm, refresh (call again before it lapses) or disarm (0) the dead-man's switch."""

    timeout_s: int = Field(strict=True, description="seconds until every open order of the"
                           " caller is cancelled, unless called again; 0 disarms")


@router.post("/orders/cancel-all-after")
def cancel_all_after(body: CancelAllAfter, request: Request,
                     actor: Actor = Depends(acting("order.cancel_all_after"))) -> dict:
    """The caller's dead-man's switch: unless refreshed within timeout_s seconds, the server
    cancels all their open orders and pending stops (cancel_reason cancel_all_after)."""
    max_s = server_state(request).settings.lifetime.max_cancel_all_after_s
    with transaction(request) as conn:
        return out(arm_cancel_all_after(conn, actor, body.timeout_s, max_s))


@router.delete("/orders")
async def cancel_all(request: Request, token_id: str | None = None,
                     actor: Actor = Depends(acting("order.cancel_all"))) -> Response:
    """Cancel all of the caller's open orders and pending stops (of one token, by symbol or id,
    if given); the answer lists the orders cancelled, as they are now."""
    if token_id is not None:
        check_value(token_id, "token_id")
    with transaction(request) as conn:
        token = None if token_id is None else get_token(conn, token_id).id
        open_ids = trader_open_order_ids(conn, actor.user_id, token)
    writer = server_state(request).writer
    results = await asyncio.gather(
        *(asyncio.wrap_future(writer.submit(CancelOrder(actor, str(order_id))))
          for order_id in open_ids), return_exceptions=True)
    for result in results:  # an order that filled or was cancelled meanwhile is left out
        if isinstance(result, BaseException) and not isinstance(result, Conflict | NotFound):
            raise result
    return render({"cancelled": [r for r in results if not isinstance(r, BaseException)]})


@router.get("/orderbook/{token_id}")
async def order_book(token_id: str, request: Request, levels: int = 20,
                     _actor: Actor = Depends(acting("market.read"))) -> dict:
    """Aggregated depth of a token's book, best first."""
    with transaction(request) as conn:
        token = get_token(conn, token_id)

    found = await asyncio.wrap_future(server_state(request).writer.call(
        depth_and_last, token.id, max(1, min(levels, 500))))
    bids, asks, last = ((), (), None) if found is None else (*found[0], found[1])
    tick = token.tick_size
    return out({"symbol": token.symbol, "last_price": None if last is None else last * tick,
                "bids": [[lv.price * tick, lv.quantity] for lv in bids],
                "asks": [[lv.price * tick, lv.quantity] for lv in asks]})


@router.get("/trades")
def own_trades(request: Request, token: str | None = None,
               actor: Actor = Depends(acting("order.read"))) -> list:
    """The caller's trades, newest first."""
    with transaction(request) as conn:
        return out(orders.list_trades(conn, actor, token=token))


class OtcDecision(BaseModel):
    """An admin's decision on an OTC order."""

    decision: str = Field(pattern="^(approve|reject)$")
    reason: str | None = None


@router.get("/admin/otc-orders")
def otc_queue(request: Request, status: str | None = "pending",
              _actor: Actor = Depends(acting("otc.read"))) -> list:
    """OTC orders awaiting an admin (or of another status)."""
    with transaction(request) as conn:
        return out(otc.list_otc_orders(conn, status))


@router.post("/admin/otc-orders/{otc_id}")
def otc_decide(otc_id: str, body: OtcDecision, request: Request,
               actor: Actor = Depends(acting("otc.review"))) -> dict:
    """Approve (execute against the treasury) or reject an OTC order."""
    with transaction(request) as conn:
        if body.decision == "approve":
            return out(otc.approve_otc_order(conn, actor, otc_id))
        return out(otc.reject_otc_order(conn, actor, otc_id, body.reason))
