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
from alefctl.workflows import (
    compliance,
    halts,
    lifecycle,
    offering,
    offering_admin,
    protections,
    redemption,
    tokens,
)
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
    primary_offering_pct: Decimal | None = None  # default: what team, reserve, platform leave
    team_pct: Decimal = Decimal(0)
    reserve_pct: Decimal = Decimal(0)
    min_investment: int = 1
    raise_currency: str = "USD"
    tick_size: Decimal = Decimal("0.01")
    decimals: int = 18
    maturity_date: datetime | None = None
    soft_cap: Decimal | None = None
    max_investment: int | None = None
    lockup_until: datetime | None = None


class OfferingWindow(BaseModel):
    """When the primary offering runs; defaults: now, for 30 days."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None


class SubscribeBody(BaseModel):
    """Tokens to buy in the primary offering."""

    quantity: int


class HaltBody(BaseModel):
    """Why trading stops, and when it resumes by itself (none: when an admin resumes it)."""

    reason: str
    until: datetime | None = None


class ResumeBody(BaseModel):
    """Why the token may trade again (required to lift a halt; not to resume a pause)."""

    reason: str | None = None


class ProtectionsBody(BaseModel):
    """A token's own thresholds to set; a field left out keeps its value, `reset` first goes
    back to the platform's defaults. Percentages as decimal strings; 0 switches a check off."""

    model_config = ConfigDict(extra="forbid")

    breaker_move_pct: Decimal | None = None
    breaker_window_s: int | None = None
    breaker_halt_s: int | None = None
    fat_finger_pct: Decimal | None = None
    nav_deviation_pct: Decimal | None = None
    reset: bool = False


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
    defaults = _defaults(request)
    with transaction(request) as conn:
        token = tokens.get_token(conn, token_id)
    return out(token.to_dict() | {"protections": protections.protections_of(token, defaults)})


@router.post("/tokens/{token_id}/subscribe", status_code=201)
def subscribe(token_id: str, body: SubscribeBody, request: Request,
              actor: Actor = Depends(acting("token.subscribe"))) -> dict:
    """Subscribe to the primary offering (investor)."""
    limits = NotionalLimits.from_settings(server_state(request).settings.trading)
    with transaction(request) as conn:
        return out(offering.subscribe(conn, actor, token_id, body.quantity, limits=limits))


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


@router.post("/admin/tokens/{token_id}/halt")
def halt(token_id: str, body: HaltBody, request: Request,
         actor: Actor = Depends(acting("token.halt"))) -> dict:
    """Halt trading: new orders are refused (409 token_halted) until `until` or a resume."""
    with transaction(request) as conn:
        return out(halts.halt_token(conn, actor, token_id, body.reason, body.until))


@router.post("/admin/tokens/{token_id}/resume")
def resume(token_id: str, request: Request, body: ResumeBody | None = None,
           actor: Actor = Depends(acting("token.lifecycle"))) -> dict:
    """Let the token trade again: lift its halt (a reason is required) and resume it if paused."""
    with transaction(request) as conn:
        return out(halts.resume_trading(conn, actor, token_id, body.reason if body else None))


@router.get("/admin/tokens/{token_id}/protections")
def show_protections(token_id: str, request: Request,
                     _actor: Actor = Depends(acting("token.protections"))) -> dict:
    """The token's protection thresholds, and which are its own (not the platform's)."""
    with transaction(request) as conn:
        return out(protections.show_protections(conn, token_id, _defaults(request)))


@router.post("/admin/tokens/{token_id}/protections")
def set_protections(token_id: str, body: ProtectionsBody, request: Request,
                    actor: Actor = Depends(acting("token.protections"))) -> dict:
    """Set the token's own thresholds (audited); the server applies them from its next order."""
    changes = body.model_dump(exclude_none=True, exclude={"reset"})
    with transaction(request) as conn:
        return out(protections.set_protections(conn, actor, token_id, changes, _defaults(request),
                                               reset=body.reset))


def _defaults(request: Request) -> protections.ProtectionDefaults:
    return protections.ProtectionDefaults.from_settings(server_state(request).settings.protections)


class CancelBody(BaseModel):
    """Why the offering is cancelled (told to every investor)."""

    model_config = ConfigDict(extra="forbid")

    reason: str


class WindowBody(BaseModel):
    """The offering's new end."""

    model_config = ConfigDict(extra="forbid")

    ends_at: datetime


@router.post("/admin/tokens/{token_id}/cancel-offering")
def cancel_offering(token_id: str, body: CancelBody, request: Request,
                    actor: Actor = Depends(acting("offering.cancel"))) -> dict:
    """Cancel the offering: every subscription refunded, minted tokens burned, investors told."""
    with transaction(request) as conn:
        return out(offering_admin.cancel_offering(conn, actor, token_id, body.reason))


@router.post("/admin/tokens/{token_id}/offering-window")
def offering_window(token_id: str, body: WindowBody, request: Request,
                    actor: Actor = Depends(acting("offering.window"))) -> dict:
    """Extend or shorten the offering in progress."""
    with transaction(request) as conn:
        return out(offering_admin.set_offering_window(conn, actor, token_id, body.ends_at))


@router.put("/admin/tokens/{token_id}/compliance")
def set_compliance(token_id: str, body: ComplianceBody, request: Request,
                   actor: Actor = Depends(acting("token.compliance"))) -> dict:
    """Change the token's compliance rules; a chain job sets them on its Compliance contract."""
    with transaction(request) as conn:
        return out(compliance.set_rules(conn, actor, token_id, deny=body.deny_countries,
                                        allow=body.allow_countries, max_balance=body.max_balance,
                                        max_holders=body.max_holders))


class RedeemBody(BaseModel):
    """A matured token's redemption: the price paid per token (face value or final NAV)."""

    model_config = ConfigDict(extra="forbid")

    price_per_token: str


@router.post("/admin/tokens/{token_id}/redeem", status_code=202)
def redeem(token_id: str, body: RedeemBody, request: Request,
           actor: Actor = Depends(acting("token.redeem"))) -> dict:
    """Request the redemption of a matured token's holders; a second admin approves it."""
    with transaction(request) as conn:
        return out(redemption.request_redemption(conn, actor, token_id, body.price_per_token))


@router.get("/admin/tokens/{token_id}/redemption")
def show_redemption(token_id: str, request: Request,
                    actor: Actor = Depends(acting("token.redeem"))) -> dict:
    """A token's redemption: its price, status, totals and each holder's payment and burn."""
    with transaction(request) as conn:
        return out(redemption.get_redemption(conn, token_id))


@router.post("/admin/tokens/{token_id}/{action}")
def change_status(token_id: str, action: str, request: Request,
                  actor: Actor = Depends(acting("token.lifecycle"))) -> dict:
    """pause, mature or delist (the last two cancel the token's open orders)."""
    if action in ("mature", "delist"):
        state = server_state(request)
        limits = NotionalLimits.from_settings(state.settings.trading)
        return out(lifecycle.retire(state.db, actor, token_id, action, limits))
    with transaction(request) as conn:
        return out(lifecycle.change_status(conn, actor, token_id, action))
