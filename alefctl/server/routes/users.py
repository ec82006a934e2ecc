"""Admin routes on a user's standing: activation, FATCA status, rate limits (KYC revocation is
with the KYC routes, for reviewers too).

Taking away the right to trade (deactivate, FATCA block) cancels the user's open
orders through this server's writer (workflows/eligibility.py); the answer lists them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.state import server_state
from alefctl.workflows import eligibility, rate_limits, users
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1/admin/users", tags=["users"], route_class=EdgeRoute)


class FatcaBody(BaseModel):
    """A FATCA status and why."""

    status: Literal["clear", "blocked"]
    reason: str = Field(max_length=500)


class RateLimitBody(BaseModel):
    """A user's own rates (requests a second); a rate left out stays; `reset` means the defaults."""

    orders_per_s: int | None = None
    reads_per_s: int | None = None
    reset: bool = False


@router.post("/{user_id}/deactivate")
def deactivate(user_id: str, request: Request, actor: Actor = Depends(acting("user.activate"))) -> dict:
    """Stop a user from acting; their open orders are cancelled (`cancelled_orders`)."""
    return out(eligibility.deactivate_user(server_state(request).db, actor, user_id))


@router.post("/{user_id}/activate")
def activate(user_id: str, request: Request, actor: Actor = Depends(acting("user.activate"))) -> dict:
    """Allow a user to act again."""
    with transaction(request) as conn:
        user, changed = users.set_activation(conn, actor, user_id, True)
    return out({**user.to_dict(), "changed": changed})


@router.post("/{user_id}/fatca")
def fatca(user_id: str, body: FatcaBody, request: Request,
          actor: Actor = Depends(acting("user.fatca"))) -> dict:
    """Set a user's FATCA status; `blocked` cancels their open orders."""
    return out(eligibility.set_fatca_status(server_state(request).db, actor, user_id,
                                            body.status, body.reason))


@router.get("/{user_id}/rate-limit")
def rate_limit(user_id: str, request: Request,
               actor: Actor = Depends(acting("user.rate_limit"))) -> dict:
    """A user's rates: their own, or the defaults of the settings."""
    with transaction(request) as conn:
        return out(rate_limits.user_limits(conn, actor, user_id, _defaults(request)))


@router.put("/{user_id}/rate-limit")
def set_rate_limit(user_id: str, body: RateLimitBody, request: Request,
                   actor: Actor = Depends(acting("user.rate_limit"))) -> dict:
    """Give a user rates of their own, or the defaults again (`reset`); audited."""
    with transaction(request) as conn:
        limits, changed = rate_limits.set_user_limits(
            conn, actor, user_id, _defaults(request), orders_per_s=body.orders_per_s,
            reads_per_s=body.reads_per_s, reset=body.reset)
    return out({**limits.to_dict(), "changed": changed})


def _defaults(request: Request) -> rate_limits.Limits:
    return rate_limits.Limits.from_settings(server_state(request).settings.ratelimit)
