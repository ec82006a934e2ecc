"""Token withdrawals and deposits: tokens leave or come back to the platform (README's custody).

While a token trades here its tokens sit in each investor's registered wallet with holder
transfers closed on-chain; the books (wallets rows) are what may be traded. An investor asks for
a quantity to be sent to an outside wallet they name (`POST /api/v1/token-withdrawals`); an admin
approves it (four-eyes kind `token.withdraw`, workflows/approvals.py). Approval is the database
step: the tokens leave the books (free tokens only: never those in open sell orders or frozen)
and an agent operation of kind `withdraw` is queued. The chain job (holders/jobs.py) registers
the outside wallet with the investor's identity and force-transfers the tokens to it, DB-first
and resumable like every agent job. Reconcile counts withdrawn tokens as off the platform.

A deposit brings tokens back from an outside wallet the investor withdrew to, at most what went
there net (`POST /api/v1/token-deposits`; no approval: nothing the platform did not send out can
come in, and an outside wallet serves one investor). It queues an agent job (kind `deposit`):
the agent force-transfers the tokens to the investor's registered wallet, and the books are
credited in the transaction that records the chain's confirmation (holders/jobs.py), never before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict
from alefctl.workflows import approvals, policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.holders.positions import (
    approved_holder,
    lock_position,
    record_approved,
    record_operation,
    whole_tokens,
)
from alefctl.workflows.money import debit_tokens
from alefctl.workflows.tokens import TRADED_STATUSES, Token, get_token
from alefctl.workflows.users import User, get_user

WITHDRAW = "token.withdraw"  # the approval kind
# Tokens leave only while their token trades (refunds, redemption and the register work from
# the books); they may come back after maturity too, to be redeemed with the others.
DEPOSIT_STATUSES = (*TRADED_STATUSES, "matured")
# tokens in this investor's books that are not yet in their wallet on-chain: purchases not
# settled on-chain, allocations and token dividends not yet minted (reconcile_db's items)
_NOT_YET_ON_CHAIN = text(
    "SELECT (SELECT coalesce(sum(quantity), 0) FROM trades WHERE token_id = :t AND buyer_id = :u"
    " AND settlement_type IS DISTINCT FROM 'on_chain')"
    " + (SELECT coalesce(sum(quantity), 0) FROM token_allocations WHERE token_id = :t"
    " AND user_id = :u AND status = 'confirmed' AND on_chain_status <> 'minted')"
    " + (SELECT coalesce(sum(p.token_quantity), 0) FROM dividend_payments p JOIN"
    " dividend_declarations d ON d.id = p.dividend_id WHERE d.token_id = :t AND p.user_id = :u"
    " AND d.dividend_type = 'token' AND p.status = 'paid'"
    " AND p.on_chain_status IS DISTINCT FROM 'minted')")
_OFF_PLATFORM = text(
    "SELECT coalesce(sum(quantity) FILTER (WHERE kind = 'withdraw'), 0) - coalesce(sum(quantity)"
    " FILTER (WHERE kind = 'deposit' AND chain_status = 'done'), 0) FROM agent_operations"
    " WHERE token_id = :t AND kind IN ('withdraw', 'deposit')")
_PLATFORM_WALLET = text("SELECT email FROM users WHERE lower(wallet_address) = lower(:w)")
_OTHER_INVESTOR = text("SELECT 1 FROM agent_operations WHERE kind = 'withdraw'"
                       " AND lower(to_wallet) = lower(:w) AND user_id <> :u LIMIT 1")
# what this investor sent to an outside wallet and may bring back: withdrawn less deposits
_RETURNABLE = text(
    "SELECT coalesce(sum(CASE WHEN kind = 'withdraw' THEN quantity ELSE -quantity END), 0)"
    " FROM agent_operations WHERE user_id = :u AND token_id = :t AND ((kind = 'withdraw'"
    " AND chain_status = 'done' AND lower(to_wallet) = lower(:w)) OR (kind = 'deposit'"
    " AND chain_status <> 'failed' AND lower(from_wallet) = lower(:w)))")


def request_token_deposit(conn: Connection, actor: Actor, token_ref: str, quantity: int,
                          from_wallet: str) -> dict[str, Any]:
    """Queue the caller's tokens' return from an outside wallet they withdrew to; the books are
    credited when the chain confirms the transfer."""
    policy.require(actor, "token_deposit.request")
    amount = whole_tokens(quantity)
    source = validation.evm_address(from_wallet, field="from_wallet")
    token = get_token(conn, token_ref, for_update=True)  # one deposit decision at a time
    investor = get_user(conn, str(actor.user_id))
    _check_possible(conn, token, investor, source, DEPOSIT_STATUSES)
    returnable = int(conn.execute(_RETURNABLE, {"u": investor.id, "t": token.id,
                                                "w": source}).scalar_one())
    if amount > returnable:
        raise Conflict(f"{returnable} {token.symbol} tokens withdrawn to {source} can come back;"
                       f" {amount} asked", code="insufficient_funds", field="from_wallet")
    operation_id = record_operation(
        conn, actor, "deposit", token, investor.id, f"deposit requested by {investor.email}",
        to_user_id=investor.id, quantity=amount, from_wallet=source,
        to_wallet=investor.wallet_address)
    actor.audit(conn, "token.deposit", "agent_operation", operation_id, after={
        "symbol": token.symbol, "email": investor.email, "quantity": amount, "from_wallet": source})
    return {"operation_id": operation_id, "symbol": token.symbol, "email": investor.email,
            "quantity": amount, "from_wallet": source, "chain_status": "pending"}


def request_token_withdrawal(conn: Connection, actor: Actor, token_ref: str, quantity: int,
                             to_wallet: str) -> approvals.ApprovalRequest:
    """Ask an admin to send the caller's tokens to an outside wallet; nothing moves yet."""
    policy.require(actor, "token_withdrawal.request")
    amount = whole_tokens(quantity)
    destination = validation.evm_address(to_wallet, field="to_wallet")
    token, investor = get_token(conn, token_ref), get_user(conn, str(actor.user_id))
    _check_possible(conn, token, investor, destination, TRADED_STATUSES)
    _free_tokens(conn, token, investor, amount)
    return approvals.request(conn, actor, WITHDRAW, {
        "token_id": token.id, "symbol": token.symbol, "user_id": investor.id,
        "email": investor.email, "quantity": amount, "to_wallet": destination})


def execute_token_withdrawal(conn: Connection, actor: Actor, request: approvals.ApprovalRequest
                             ) -> dict[str, Any]:
    """The approved withdrawal's database step: the tokens leave the books, the job is queued."""
    params = request.params
    token, investor = approved_holder(conn, request, "user_id")
    _check_possible(conn, token, investor, params["to_wallet"], TRADED_STATUSES)
    position = lock_position(conn, investor.id, token.id)
    _free_tokens(conn, token, investor, params["quantity"])
    debit_tokens(conn, investor.id, token.id, params["quantity"])
    return record_approved(
        conn, actor, request, "withdraw", token, investor,
        f"withdrawal requested by {investor.email}",
        {"email": investor.email, "quantity": params["quantity"], "to_wallet": params["to_wallet"]},
        before=position.to_dict(), to_user_id=investor.id, to_wallet=params["to_wallet"])


def describe(params: dict[str, Any]) -> str:
    """The request as one line of the approvals list."""
    return (f"withdraw {params['quantity']} {params['symbol']} of {params['email']} to"
            f" {params['to_wallet']}")[:300]


def off_platform(conn: Connection, token_id: object) -> int:
    """How many of a token's tokens are off the books in outside wallets (or on their way
    there): every withdrawal the books gave (whatever its job's state) less deposits done."""
    return int(conn.execute(_OFF_PLATFORM, {"t": token_id}).scalar_one())


def _check_possible(conn: Connection, token: Token, investor: User, destination: str,
                    statuses: tuple[str, ...]) -> None:
    if token.status not in statuses:
        raise Conflict(f"{token.symbol} is {token.status}; its tokens move "
                       f"{'onto' if statuses is DEPOSIT_STATUSES else 'off'} the platform only"
                       f" while it is {' or '.join(statuses)}")
    if token.contract_address is None:
        raise Conflict(f"{token.symbol} is not deployed on-chain; its tokens cannot be withdrawn")
    if investor.wallet_address is None:
        raise Conflict(f"{investor.email} has no registered wallet holding the tokens")
    owner = conn.execute(_PLATFORM_WALLET, {"w": destination}).scalar()
    if owner is not None:
        raise Conflict("the wallet is registered on the platform; name a wallet outside it",
                       field="wallet")
    if conn.execute(_OTHER_INVESTOR, {"w": destination, "u": investor.id}).first():
        raise Conflict("another investor's tokens were withdrawn to that wallet", field="wallet")


def _free_tokens(conn: Connection, token: Token, investor: User, quantity: int) -> None:
    row = conn.execute(text(
        "SELECT balance - locked_balance - frozen_quantity AS free, is_frozen FROM wallets"
        " WHERE user_id = :u AND token_id = :t"), {"u": investor.id, "t": token.id}).first()
    if row is not None and row.is_frozen:
        raise Conflict(f"{investor.email}'s {token.symbol} wallet is frozen", code="holder_frozen")
    coming = int(conn.execute(_NOT_YET_ON_CHAIN, {"t": token.id, "u": investor.id}).scalar_one())
    free = max((int(row.free) if row is not None else 0) - coming, 0)
    if quantity > free:
        raise Conflict(f"{investor.email} has {free} free {token.symbol} tokens in their wallet"
                       " on-chain (open sell orders, frozen tokens and tokens not yet settled or"
                       f" minted stay); {quantity} asked", code="insufficient_funds")
