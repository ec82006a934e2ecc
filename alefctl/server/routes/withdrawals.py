"""Withdrawals: an investor asks (the money is held), an admin confirms or rejects; at or above
the four-eyes threshold a confirmation waits for a second admin (workflows/account/withdrawals.py)."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from alefctl.server.auth import acting
from alefctl.server.edge import EdgeRoute
from alefctl.server.routes import out, transaction
from alefctl.server.routes.me_examples import example
from alefctl.server.state import server_state
from alefctl.workflows.account import withdrawals
from alefctl.workflows.actor import Actor

router = APIRouter(prefix="/api/v1", tags=["withdrawals"], route_class=EdgeRoute)


class WithdrawalBody(BaseModel):
    """How much to withdraw (two places at most), in which currency, and a note for the admins."""

    amount: Decimal = Field(gt=0)
    currency: str = Field("USD", max_length=10, description="USD (fiat) or USDC (stablecoin)")
    reference: str | None = Field(None, max_length=200, description="e.g. the bank account")


class RejectBody(BaseModel):
    """Why a withdrawal is turned down."""

    reason: str = Field(min_length=1, max_length=1000)


@router.post("/me/withdrawals", status_code=201, responses=example("withdrawal", 201))
def request_withdrawal(body: WithdrawalBody, request: Request,
                       actor: Actor = Depends(acting("withdrawal.request"))) -> dict:
    """Ask to withdraw fiat or USDC: the amount is held now (409 insufficient_funds beyond what
    may be withdrawn in that currency) and leaves when an admin confirms."""
    with transaction(request) as conn:
        return out(withdrawals.request_withdrawal(conn, actor, body.amount, body.reference,
                                                  body.currency))


@router.delete("/me/withdrawals/{withdrawal_id}", responses=example("withdrawal_cancelled"))
def cancel_withdrawal(withdrawal_id: str, request: Request,
                      actor: Actor = Depends(acting("withdrawal.request"))) -> dict:
    """Cancel one's own pending request; the held money comes back (409 once decided)."""
    with transaction(request) as conn:
        return out(withdrawals.cancel_own_withdrawal(conn, actor, withdrawal_id))


@router.get("/admin/withdrawals", responses=example("withdrawal_queue"))
def queue(request: Request, status: str | None = "pending",
          actor: Actor = Depends(acting("withdrawal.review"))) -> list:
    """Withdrawal requests, oldest first (pending ones by default)."""
    with transaction(request) as conn:
        return out(withdrawals.list_withdrawals(conn, actor, status))


@router.post("/admin/withdrawals/{withdrawal_id}/confirm", responses=example("withdrawal_done"))
def confirm(withdrawal_id: str, request: Request,
            actor: Actor = Depends(acting("withdrawal.review"))) -> dict:
    """Pay a request out; at or above approvals.money_threshold_usd it awaits a second admin
    (status awaiting_approval, approval_request_id set)."""
    threshold = server_state(request).settings.approvals.money_threshold_usd
    with transaction(request) as conn:
        return out(withdrawals.confirm_withdrawal(conn, actor, withdrawal_id, threshold=threshold))


@router.post("/admin/withdrawals/{withdrawal_id}/reject", responses=example("withdrawal_rejected"))
def reject(withdrawal_id: str, body: RejectBody, request: Request,
           actor: Actor = Depends(acting("withdrawal.review"))) -> dict:
    """Turn a request down with a reason; the held money comes back."""
    with transaction(request) as conn:
        return out(withdrawals.reject_withdrawal(conn, actor, withdrawal_id, body.reason))
