"""Forced transfer and burn (four-eyes): a court order, an estate, a cancelled issue.

The request checks what it can now (the holder's unlocked holding, the receiver's eligibility)
and a second admin's approval runs the database step in the approval's transaction: the
positions change (free tokens first, then frozen ones, as on-chain) and the operation's chain
job is queued (forcedTransfer or burn, holders/jobs.py). Checked again at approval, under the
position's row lock: never more than the unlocked holding (tokens in open sell orders stay).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from alefctl.errors import Conflict
from alefctl.workflows import approvals, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.holders.positions import (
    approved_holder,
    lock_position,
    reason_text,
    record_approved,
    take_unlocked,
    whole_tokens,
)
from alefctl.workflows.money import credit_tokens
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.users import User, get_user

FORCED_TRANSFER = "holder.force_transfer"
BURN = "token.burn"


def request_forced_transfer(conn: Connection, actor: Actor, token_ref: str, from_ref: str,
                            to_ref: str, quantity: int, reason: str) -> approvals.ApprovalRequest:
    """Ask a second admin to move a holder's tokens to another eligible holder."""
    policy.require(actor, FORCED_TRANSFER)
    token, sender, amount, why = _inputs(conn, token_ref, from_ref, quantity, reason)
    receiver = get_user(conn, to_ref)
    check_receiver(sender, receiver)
    _check_holding(conn, token, sender, amount)
    return approvals.request(conn, actor, FORCED_TRANSFER, {
        "token_id": token.id, "symbol": token.symbol, "from_user_id": sender.id,
        "from_email": sender.email, "to_user_id": receiver.id, "to_email": receiver.email,
        "quantity": amount, "reason": why})


def request_burn(conn: Connection, actor: Actor, token_ref: str, from_ref: str, quantity: int,
                 reason: str) -> approvals.ApprovalRequest:
    """Ask a second admin to destroy a holder's tokens."""
    policy.require(actor, BURN)
    token, holder, amount, why = _inputs(conn, token_ref, from_ref, quantity, reason)
    _check_holding(conn, token, holder, amount)
    return approvals.request(conn, actor, BURN, {
        "token_id": token.id, "symbol": token.symbol, "from_user_id": holder.id,
        "from_email": holder.email, "quantity": amount, "reason": why})


def execute_forced_transfer(conn: Connection, actor: Actor, request: approvals.ApprovalRequest
                            ) -> dict[str, Any]:
    """The approved transfer's database step: both positions and the chain job."""
    params = request.params
    token, sender = approved_holder(conn, request, "from_user_id")
    receiver = get_user(conn, str(params["to_user_id"]))
    check_receiver(sender, receiver)
    # both positions locked in id order (db/locks.py: rows of one table by id)
    positions = {user_id: lock_position(conn, user_id, token.id)
                 for user_id in sorted((sender.id, receiver.id))}
    holding = take_unlocked(conn, positions[sender.id], params["quantity"])
    credit_tokens(conn, receiver.id, token.id, params["quantity"])
    return record_approved(
        conn, actor, request, "forced_transfer", token, sender, params["reason"],
        {"from": sender.email, "to": receiver.email, "quantity": params["quantity"]},
        noted={"reason": params["reason"], "from_position": holding.to_dict()},
        to_user_id=receiver.id, to_wallet=receiver.wallet_address)


def execute_burn(conn: Connection, actor: Actor, request: approvals.ApprovalRequest
                 ) -> dict[str, Any]:
    """The approved burn's database step: the position and the chain job."""
    params = request.params
    token, holder = approved_holder(conn, request, "from_user_id")
    holding = take_unlocked(conn, lock_position(conn, holder.id, token.id), params["quantity"])
    return record_approved(
        conn, actor, request, "burn", token, holder, params["reason"],
        {"from": holder.email, "quantity": params["quantity"]},
        noted={"reason": params["reason"], "position": holding.to_dict()})


def check_receiver(sender: User, receiver: User) -> None:
    """A forced transfer's receiver: another active investor (or the treasury) with approved KYC,
    not FATCA-blocked, with a wallet the tokens can be registered to."""
    if receiver.id == sender.id:
        raise Conflict("the receiver is the holder", field="to")
    if receiver.role != "investor" and receiver.email != "treasury@system.alefctl":
        raise Conflict(f"{receiver.email} is not an investor", field="to")
    if not receiver.is_activated:
        raise Conflict(f"{receiver.email} is deactivated", field="to")
    if receiver.role == "investor" and receiver.kyc_status != "approved":
        raise Conflict(f"{receiver.email}'s KYC is {receiver.kyc_status}, not approved", field="to")
    if receiver.fatca_status == "blocked":
        raise Conflict(f"{receiver.email} is blocked under FATCA", field="to")
    if receiver.wallet_address is None:
        raise Conflict(f"{receiver.email} has no wallet address", field="to")


def _inputs(conn: Connection, token_ref: str, from_ref: str, quantity: int,
            reason: str) -> tuple[Token, User, int, str]:
    why = reason_text(reason)
    amount = whole_tokens(quantity)
    return get_token(conn, token_ref), get_user(conn, from_ref), amount, why


def _check_holding(conn: Connection, token: Token, holder: User, quantity: int) -> None:
    from sqlalchemy import text

    row = conn.execute(text("SELECT balance - locked_balance FROM wallets WHERE user_id = :u"
                            " AND token_id = :t"), {"u": holder.id, "t": token.id}).scalar()
    unlocked = int(row or 0)
    if quantity > unlocked:
        raise Conflict(f"{holder.email} has {unlocked} unlocked {token.symbol} tokens"
                       f" (open sell orders hold the rest); {quantity} asked",
                       code="insufficient_funds")
