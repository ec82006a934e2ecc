"""Admin trades: the settlement dashboard and retry of failed settlements (spec paths)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.workflows.actor import Actor
from alefctl.workflows.settlement import admin as settlement_admin

router = APIRouter(prefix="/api/v1", tags=["settlement"], route_class=EdgeRoute)


@router.get("/admin/trades")
def list_trades(request: Request, status: str | None = None, token: str | None = None,
                user: str | None = None, limit: int = 100,
                actor: Actor = Depends(acting("settlement.read"))) -> list:
    """Every trade with its settlement state (filters: status, token, user email, limit)."""
    with transaction(request) as conn:
        return out(settlement_admin.list_settlement_trades(conn, actor, status=status, token=token,
                                                           user=user, limit=limit))


@router.get("/admin/trades/{trade_id}")
def show_trade(trade_id: str, request: Request, actor: Actor = Depends(acting("settlement.read"))) -> dict:
    """One trade's settlement with its history of transitions."""
    with transaction(request) as conn:
        return out(settlement_admin.get_settlement_trade(conn, actor, trade_id))


@router.post("/admin/trades/{trade_id}/retry-settlement")
def retry_settlement(trade_id: str, request: Request,
                     actor: Actor = Depends(acting("settlement.retry"))) -> dict:
    """A failed settlement back to pending with its attempts reset (audited); 409 otherwise."""
    with transaction(request) as conn:
        settlement_admin.retry_failed_settlements(conn, actor, [trade_id])
        return out(settlement_admin.get_settlement_trade(conn, actor, trade_id))
