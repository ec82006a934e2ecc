"""Token withdrawals: an investor asks for tokens to leave the platform to an outside wallet; an
admin approves the request (`alefctl approval approve`, POST /api/v1/admin/approvals/...), which
takes them off the books and queues the on-chain move (workflows/custody.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.workflows import custody
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["token-withdrawals"], route_class=EdgeRoute)


class TokenWithdrawalBody(BaseModel):
    """Which token, how many whole tokens, and the outside wallet to send them to."""

    symbol: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0)
    to_wallet: str = Field(min_length=42, max_length=42, description="0x + 40 hex digits")


@router.post("/token-withdrawals", status_code=201)
def request_token_withdrawal(body: TokenWithdrawalBody, request: Request,
                             actor: Actor = Depends(acting("token_withdrawal.request"))) -> dict:
    """Ask for tokens to be sent to an outside wallet: an approval request for an admin (409
    insufficient_funds beyond the free tokens, holder_frozen for a frozen wallet)."""
    with transaction(request) as conn:
        return out(custody.request_token_withdrawal(conn, actor, body.symbol, body.quantity,
                                                    body.to_wallet).to_dict())
