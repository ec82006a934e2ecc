"""Token withdrawals and deposits (workflows/custody.py): an investor asks for tokens to leave the
platform to an outside wallet, and an admin approves the request (`alefctl approval approve`),
which takes them off the books and queues the on-chain move; a deposit brings them back from
that wallet and is credited when the chain confirms it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.workflows import custody
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["custody"], route_class=EdgeRoute)


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


class TokenDepositBody(BaseModel):
    """Which token, how many whole tokens, and the outside wallet they come back from."""

    symbol: str = Field(min_length=1, max_length=20)
    quantity: int = Field(gt=0)
    from_wallet: str = Field(min_length=42, max_length=42, description="0x + 40 hex digits")


@router.post("/token-deposits", status_code=201)
def request_token_deposit(body: TokenDepositBody, request: Request,
                          actor: Actor = Depends(acting("token_deposit.request"))) -> dict:
    """Bring tokens back from an outside wallet the caller withdrew to (409 insufficient_funds
    beyond what went there); credited when the chain confirms the transfer."""
    with transaction(request) as conn:
        return out(custody.request_token_deposit(conn, actor, body.symbol, body.quantity,
                                                 body.from_wallet))
