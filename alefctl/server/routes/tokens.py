"""Tokens: issuers create; investors subscribe; admins run the lifecycle."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, render, transaction
from alefctl.server.state import server_state
from alefctl.workflows import compliance, lifecycle, offering, tokens
from alefctl.workflows.actor import Actor
from alefctl.workflows.trading.funds import NotionalLimits

router = APIRouter(prefix="/api/v1", tags=["tokens"], route_class=EdgeRoute)


class TokenBody(BaseModel):
    """A draft token. No fee: the trading fee is the platform's (trading.default_fee_bps), and a
    body naming one (or any other unknown field) is refused, 422 naming it."""

    model_config = ConfigDict(extra="forbid")

    business_id: str
    name: str
    symbol: str
    total_supply: int
    price_per_token: Decimal
    primary_offering_pct: Decimal
    team_pct: Decimal = Decimal(0)
    reserve_pct: Decimal = Decimal(0)
    min_investment: int = 1
    raise_currency: str = "USD"
    tick_size: Decimal = Decimal("0.01")
    decimals: int = 18
    maturity_date: datetime | None = None


class OfferingWindow(BaseModel):
    """When the primary offering runs; defaults: now, for 30 days."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None


class SubscribeBody(BaseModel):
    """Tokens to buy in the primary offering."""

    quantity: int


class ConfirmBody(BaseModel):
    """Allocations to confirm; none means every pending one."""

    allocation_ids: list[str] | None = None


class ComplianceBody(BaseModel):
    """Changes to a token's compliance rules: countries (ISO 3166) to deny or to allow again;
    limits (0 removes one, absent leaves it)."""

    model_config = ConfigDict(extra="forbid")

    deny_countries: list[str] = []
    allow_countries: list[str] = []
    max_balance: int | None = None
    max_holders: int | None = None


@router.post("/tokens", status_code=201)
def create(body: TokenBody, request: Request, actor: Actor = Depends(acting("token.create"))) -> dict:
    """Create a draft token (issuer of an active business)."""
    form = tokens.NewToken(**body.model_dump())
    fee = server_state(request).settings.trading.default_fee_bps
    with transaction(request) as conn:
        return out(tokens.create_token(conn, actor, form, fee))


@router.get("/tokens")
def list_all(request: Request, status: str | None = None,
             _actor: Actor = Depends(acting("token.read"))) -> list:
    """Every token."""
    with transaction(request) as conn:
        return out(tokens.list_tokens(conn, status))


@router.get("/tokens/{token_id}")
def show(token_id: str, request: Request, _actor: Actor = Depends(acting("token.read"))) -> dict:
    """One token by id or symbol."""
    with transaction(request) as conn:
        return out(tokens.get_token(conn, token_id))


@router.post("/tokens/{token_id}/subscribe", status_code=201)
def subscribe(token_id: str, body: SubscribeBody, request: Request,
              actor: Actor = Depends(acting("token.subscribe"))) -> dict:
    """Subscribe to the primary offering (investor)."""
    with transaction(request) as conn:
        return out(offering.subscribe(conn, actor, token_id, body.quantity))


@router.post("/admin/tokens/{token_id}/start-offering")
def start_offering(token_id: str, request: Request, body: OfferingWindow | None = None,
                   actor: Actor = Depends(acting("token.lifecycle"))) -> dict:
    """Open the primary offering."""
    window = body or OfferingWindow()
    with transaction(request) as conn:
        return out(lifecycle.start_offering(conn, actor, token_id, window.starts_at, window.ends_at))


@router.post("/admin/tokens/{token_id}/confirm-payment")
def confirm_payment(token_id: str, request: Request, body: ConfirmBody | None = None,
                    actor: Actor = Depends(acting("offering.confirm_payment"))) -> list:
    """Confirm pending allocations; their mints are queued."""
    chosen = body.allocation_ids if body else None
    with transaction(request) as conn:
        return out(offering.confirm_payments(conn, actor, token_id, chosen))


@router.post("/admin/tokens/{token_id}/enable-secondary")
def enable_secondary(token_id: str, request: Request,
                     actor: Actor = Depends(acting("token.lifecycle"))) -> dict:
    """Go live: order book trading, treasury allocation, proceeds paid out."""
    fee_pct = server_state(request).settings.trading.success_fee_pct
    with transaction(request) as conn:
        return out(lifecycle.enable_secondary(conn, actor, token_id, fee_pct))


@router.post("/admin/tokens/{token_id}/deploy", status_code=202,
             responses={200: {"description": "deployed already: nothing started"}})
def deploy(token_id: str, request: Request, actor: Actor = Depends(acting("token.deploy"))) -> Response:
    """Deploy the token's ERC-3643 suite (5 transactions) in the background, or resume a
    deployment that stopped; 202 with its state (status deploying), 200 if deployed already."""
    server = server_state(request)
    state = server.deployments.start(server, actor, token_id)
    return render(out(state), 200 if state["status"] == "deployed" else 202)


@router.get("/admin/tokens/{token_id}/deploy")
def deploy_progress(token_id: str, request: Request, _actor: Actor = Depends(acting("token.deploy"))) -> dict:
    """The deployment's state: status (not_deployed, deploying, failed, incomplete, deployed),
    each transaction recorded or mined, the addresses once deployed, the error of a failure."""
    server = server_state(request)
    return out(server.deployments.state(server, token_id))


@router.put("/admin/tokens/{token_id}/compliance")
def set_compliance(token_id: str, body: ComplianceBody, request: Request,
                   actor: Actor = Depends(acting("token.compliance"))) -> dict:
    """Change the token's compliance rules; a chain job sets them on its Compliance contract."""
    with transaction(request) as conn:
        return out(compliance.set_rules(conn, actor, token_id, deny=body.deny_countries,
                                        allow=body.allow_countries, max_balance=body.max_balance,
                                        max_holders=body.max_holders))


@router.post("/admin/tokens/{token_id}/{action}")
def change_status(token_id: str, action: str, request: Request,
                  actor: Actor = Depends(acting("token.lifecycle"))) -> dict:
    """pause, resume, mature or delist (the last two cancel the token's open orders)."""
    if action in ("mature", "delist"):
        state = server_state(request)
        limits = NotionalLimits.from_settings(state.settings.trading)
        return out(lifecycle.retire(state.db, actor, token_id, action, limits))
    with transaction(request) as conn:
        return out(lifecycle.change_status(conn, actor, token_id, action))
