"""Agent operations on holders, for admins: freeze, forced transfer, burn, wallet recovery.

The database step happens in the request (a freeze at once; the severe ones as a four-eyes
request, 202, that `/admin/approvals/{id}/approve` runs); the chain jobs are sent by
`alefctl chain work`.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.state import server_state
from alefctl.workflows.actor import Actor
from alefctl.workflows.holders import freezes, listing, recovery, severe

router = APIRouter(prefix="/api/v1", tags=["holders"], route_class=EdgeRoute)


class FreezeBody(BaseModel):
    """Whose tokens (email or id), how many (none: the whole wallet), and why."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=320)
    quantity: int | None = Field(default=None, gt=0)
    reason: str = Field(min_length=1, max_length=1000)


class ForcedTransferBody(BaseModel):
    """A forced transfer: from one holder to another (emails or ids)."""

    model_config = ConfigDict(extra="forbid")

    from_user: str = Field(min_length=1, max_length=320)
    to_user: str = Field(min_length=1, max_length=320)
    quantity: int = Field(gt=0)
    reason: str = Field(min_length=1, max_length=1000)


class BurnBody(BaseModel):
    """A burn of a holder's tokens."""

    model_config = ConfigDict(extra="forbid")

    from_user: str = Field(min_length=1, max_length=320)
    quantity: int = Field(gt=0)
    reason: str = Field(min_length=1, max_length=1000)


class RecoveryBody(BaseModel):
    """A lost wallet's replacement."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=320)
    new_wallet: str = Field(min_length=1, max_length=42)
    reason: str = Field(min_length=1, max_length=1000)


@router.get("/admin/holders/{token_id}")
def holders(token_id: str, request: Request, actor: Actor = Depends(acting("holder.read"))) -> list:
    """A token's holders: balance, locked in sell orders, frozen, frozen whole, sellable."""
    with transaction(request) as conn:
        _token, found = listing.holder_positions(conn, actor, token_id)
    return out(found)


@router.post("/admin/holders/{token_id}/freeze")
def freeze(token_id: str, body: FreezeBody, request: Request,
           actor: Actor = Depends(acting("holder.freeze"))) -> dict:
    """Freeze a holder's wallet (no quantity: their open sell orders are cancelled) or part."""
    return out(freezes.freeze(server_state(request).db, actor, token_id, body.user, body.quantity,
                              body.reason))


@router.post("/admin/holders/{token_id}/unfreeze")
def unfreeze(token_id: str, body: FreezeBody, request: Request,
             actor: Actor = Depends(acting("holder.freeze"))) -> dict:
    """Clear a wallet's freeze, or release that many frozen tokens."""
    return out(freezes.unfreeze(server_state(request).db, actor, token_id, body.user,
                                body.quantity, body.reason))


@router.post("/admin/holders/{token_id}/force-transfer", status_code=202)
def force_transfer(token_id: str, body: ForcedTransferBody, request: Request,
                   actor: Actor = Depends(acting("holder.force_transfer"))) -> dict:
    """Request a forced transfer; a second admin approves it (four-eyes)."""
    with transaction(request) as conn:
        return out(severe.request_forced_transfer(conn, actor, token_id, body.from_user,
                                                  body.to_user, body.quantity, body.reason))


@router.post("/admin/holders/{token_id}/burn", status_code=202)
def burn(token_id: str, body: BurnBody, request: Request,
         actor: Actor = Depends(acting("token.burn"))) -> dict:
    """Request a burn of a holder's tokens; a second admin approves it (four-eyes)."""
    with transaction(request) as conn:
        return out(severe.request_burn(conn, actor, token_id, body.from_user, body.quantity,
                                       body.reason))


@router.post("/admin/wallet-recoveries", status_code=202)
def recover(body: RecoveryBody, request: Request,
            actor: Actor = Depends(acting("holder.recover"))) -> dict:
    """Request the recovery of a holder's lost wallet; a second admin approves it."""
    with transaction(request) as conn:
        return out(recovery.request_recovery(conn, actor, body.user, body.new_wallet, body.reason))


@router.get("/admin/agent-operations")
def operations(request: Request, token: str | None = None, status: str | None = None,
               actor: Actor = Depends(acting("holder.read"))) -> list:
    """Agent operations and their chain jobs, newest first (filters: token, chain status)."""
    with transaction(request) as conn:
        return out(listing.list_operations(conn, actor, token, status))


@router.post("/admin/agent-operations/{operation_id}/retry")
def retry(operation_id: str, request: Request,
          actor: Actor = Depends(acting("holder.retry"))) -> dict:
    """Queue a failed operation's chain job again."""
    with transaction(request) as conn:
        return out(listing.retry_operation(conn, actor, operation_id))
