"""Admin routes that move a user's money in and out of the platform (USD or USDC), and show
their balances, as `alefctl wallet` does (workflows/wallet.py): below the four-eyes threshold
the money moves at once (201, the movement); at or above it the answer is the approval request
another admin runs (202, nothing moved yet)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.state import server_state
from alefctl.workflows import wallet
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1/admin/users", tags=["users"], route_class=EdgeRoute)


class MoneyBody(BaseModel):
    """How much (two places at most), in which currency, and the bank reference or a note."""

    amount: Decimal = Field(gt=0)
    currency: str = Field("USD", max_length=10, description="USD (fiat) or USDC (stablecoin)")
    reference: str | None = Field(None, max_length=200, description="bank reference or note")


def _answer(outcome: wallet.Movement | object, response: Response) -> dict:
    if not isinstance(outcome, wallet.Movement):
        response.status_code = 202  # a request for a second admin: nothing moved yet
    return out(outcome)


@router.post("/{user_id}/deposits", status_code=201)
def deposit(user_id: str, body: MoneyBody, request: Request, response: Response,
            actor: Actor = Depends(acting("wallet.deposit"))) -> dict:
    """Credit money received for the user (201); at or above approvals.money_threshold_usd
    (USDC counts 1:1) an approval request (202)."""
    threshold = server_state(request).settings.approvals.money_threshold_usd
    with transaction(request) as conn:
        outcome = wallet.submit_deposit(conn, actor, user_id, body.amount, body.reference,
                                        threshold=threshold, currency=body.currency)
    return _answer(outcome, response)


@router.post("/{user_id}/withdrawals", status_code=201)
def withdraw(user_id: str, body: MoneyBody, request: Request, response: Response,
             actor: Actor = Depends(acting("wallet.withdraw"))) -> dict:
    """Pay money out of the user's balance of that currency, never beyond what is free (USD:
    less sale proceeds not settled on-chain; 409 insufficient_funds); 202 at the threshold."""
    threshold = server_state(request).settings.approvals.money_threshold_usd
    with transaction(request) as conn:
        outcome = wallet.submit_withdrawal(conn, actor, user_id, body.amount, body.reference,
                                           threshold=threshold, currency=body.currency)
    return _answer(outcome, response)


@router.get("/{user_id}/wallet")
def show(user_id: str, request: Request, actor: Actor = Depends(acting("wallet.show.others"))) -> dict:
    """The user's balances: fiat, fiat locked in orders, stablecoins, tokens, recent movements."""
    with transaction(request) as conn:
        return out(wallet.show_wallet(conn, actor, user_id))
