"""The holder register and the cap table of a token at any instant."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.workflows import cap_table, register
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["tokens"], route_class=EdgeRoute)


@router.get("/admin/tokens/{token_id}/holders")
def holders(token_id: str, request: Request, as_of: datetime | None = None,
            actor: Actor = Depends(acting("token.holders.others"))) -> dict:
    """Every holder at as_of (default now; with a time zone): legal name, country, wallet,
    quantity, % of what is held, and when their holding began. An admin route (any token);
    issuers read their own tokens' register with `alefctl token holders`."""
    with transaction(request) as conn:
        return out(register.holder_register(conn, actor, token_id, as_of))


@router.get("/admin/tokens/{token_id}/cap-table")
def token_cap_table(token_id: str, request: Request, as_of: datetime | None = None,
                    actor: Actor = Depends(acting("token.holders"))) -> dict:
    """The cap table at as_of (default now; with a time zone): issued (sold, team, reserve,
    platform, token dividends), burned, outstanding, off the platform, held in the register,
    the treasury's holding, the holder count. Admins (any token) and the token's issuer (an
    issuer asking for another's token gets 404)."""
    with transaction(request) as conn:
        return out(cap_table.cap_table(conn, actor, token_id, as_of))
