"""Dividends (spec paths): issuers declare and submit, admins approve and distribute."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.state import server_state
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends import declaration as dividends
from alefctl.workflows.dividends import distribution as dividends_distribution
from alefctl.workflows.dividends import review as dividends_review

router = APIRouter(prefix="/api/v1", tags=["dividends"], route_class=EdgeRoute)


class DividendBody(BaseModel):
    """A dividend to declare: per_token_usd for fiat and stablecoin, per_token_qty for token. No
    fee: it is the platform's (trading.dividend_fee_pct), and a body naming one (or any other
    unknown field) is refused, 422 naming it."""

    model_config = ConfigDict(extra="forbid")

    token_id: str = Field(description="token symbol or id")
    dividend_type: str = Field(description="fiat, stablecoin or token")
    per_token_usd: Decimal | None = None
    per_token_qty: int | None = None
    record_date: datetime | None = None
    payment_date: datetime | None = None


class CancelBody(BaseModel):
    """Why a dividend is cancelled."""

    reason: str | None = None


@router.post("/dividends", status_code=201)
def declare(body: DividendBody, request: Request, actor: Actor = Depends(acting("dividend.declare"))) -> dict:
    """Declare a draft dividend (the token's issuer); its holders are those at the record date,
    snapshotted once it has passed."""
    form = dividends.NewDividend(body.token_id, body.dividend_type, body.per_token_usd,
                                 body.per_token_qty, body.record_date, body.payment_date)
    settings = server_state(request).settings
    with transaction(request) as conn:
        return out(dividends.declare(
            conn, actor, form, fee_pct=settings.trading.dividend_fee_pct,
            treasury_earns=settings.dividends.treasury_earns,
            snapshot_grace=timedelta(seconds=settings.dividends.snapshot_grace_s)))


@router.get("/dividends")
def list_all(request: Request, token: str | None = None, status: str | None = None,
             actor: Actor = Depends(acting("dividend.read"))) -> list:
    """Dividends, newest first: all for admins, their own tokens' for issuers."""
    with transaction(request) as conn:
        return out(dividends.list_dividends(conn, actor, token, status))


@router.get("/dividends/{dividend_id}")
def show(dividend_id: str, request: Request, payments: bool = False,
         actor: Actor = Depends(acting("dividend.read"))) -> dict:
    """One dividend's totals and progress; ?payments=true adds each holder's payment."""
    with transaction(request) as conn:
        data = out(dividends.get_dividend(conn, actor, dividend_id))
        if payments:
            data["payments"] = out(dividends.list_payments(conn, actor, dividend_id))
        return data


@router.post("/dividends/{dividend_id}/submit")
def submit(dividend_id: str, request: Request, actor: Actor = Depends(acting("dividend.submit"))) -> dict:
    """Send a draft for approval (the token's issuer)."""
    with transaction(request) as conn:
        return out(dividends_review.submit(conn, actor, dividend_id))


@router.post("/dividends/{dividend_id}/cancel")
def cancel(dividend_id: str, request: Request, body: CancelBody | None = None,
           actor: Actor = Depends(acting("dividend.cancel"))) -> dict:
    """Cancel before distribution (the token's issuer, or an admin)."""
    with transaction(request) as conn:
        return out(dividends_review.cancel(conn, actor, dividend_id, body.reason if body else None))


@router.post("/admin/dividends/{dividend_id}/approve")
def approve(dividend_id: str, request: Request, actor: Actor = Depends(acting("dividend.approve"))) -> dict:
    """Approve a submitted dividend (an admin other than the declarer)."""
    with transaction(request) as conn:
        return out(dividends_review.approve(conn, actor, dividend_id))


@router.post("/admin/dividends/{dividend_id}/distribute")
def distribute(dividend_id: str, request: Request,
               actor: Actor = Depends(acting("dividend.distribute"))) -> dict:
    """Pay an approved dividend to its holders; safe to call again after a failure."""
    return out(dividends_distribution.distribute(server_state(request).db, actor, dividend_id))
