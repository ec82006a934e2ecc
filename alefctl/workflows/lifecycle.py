"""Token lifecycle after creation: offering, go-live, pause/resume, maturity, delisting.

The status flow is the spec's: draft -> primary -> secondary <-> paused -> matured | delisted,
then matured -> redeemed (redemption.py), enforced by transitions.TOKEN_FLOW.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.db import locks
from alefctl.db.system_users import treasury_id
from alefctl.errors import Conflict, InvalidInput
from alefctl.ids import new_id
from alefctl.money import cents_down
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.closing import close_market
from alefctl.workflows.money import Entry, credit_tokens, move_money
from alefctl.workflows.onchain.token_state import queue_job
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.transitions import TOKEN_FLOW, transition

DEFAULT_OFFERING_DAYS = 30
# Status changes that change the token's on-chain state (onchain/token_state.py).
ON_CHAIN_ACTIONS = ("pause", "resume", "mature", "delist")
RETIRE_ACTIONS = ("mature", "delist")


def start_offering(conn: Connection, actor: Actor, token_ref: str, starts_at: datetime | None = None,
                   ends_at: datetime | None = None) -> Token:
    """Open the primary offering of a deployed token (admins only)."""
    policy.require(actor, "token.lifecycle")
    token = get_token(conn, token_ref, for_update=True)
    if token.contract_address is None:
        raise Conflict(f"{token.symbol} is not deployed yet: run `alefctl token deploy` first")
    start = starts_at or datetime.now().astimezone()
    end = ends_at or start + timedelta(days=DEFAULT_OFFERING_DAYS)
    if end <= start:
        raise InvalidInput("the offering must end after it starts", field="ends_at")
    return _move(conn, actor, token, "start_offering", trading_mode="primary_subscription",
                 primary_start=start, primary_end=end)


def enable_secondary(conn: Connection, actor: Actor, token_ref: str,
                     success_fee_pct: Decimal) -> dict[str, Any]:
    """Go live: order book trading, the treasury's allocation, and the proceeds paid out."""
    policy.require(actor, "token.lifecycle")
    token = get_token(conn, token_ref, for_update=True)
    if token.tokens_reserved:
        raise Conflict(f"{token.symbol} has {token.tokens_reserved} tokens awaiting payment"
                       " confirmation: confirm or reject those allocations first")
    if token.soft_cap is not None and token.total_raised < token.soft_cap:
        raise Conflict(f"{token.symbol} raised {token.total_raised}, below its soft cap of"
                       f" {token.soft_cap}: it cannot go live (it fails at its end)",
                       code="soft_cap_not_reached")
    if token.escrow_balance != token.total_raised:
        raise Conflict(f"{token.symbol} escrow {token.escrow_balance} differs from total raised"
                       f" {token.total_raised}: run `alefctl check` before going live")
    moved = _move(conn, actor, token, "enable_secondary", trading_mode="full_orderbook",
                  secondary_enabled_at=datetime.now().astimezone())
    treasury_quantity = _go_live_allocation(conn, actor, token)
    fee, proceeds = _pay_out_escrow(conn, actor, token, success_fee_pct)
    return {"token": moved.to_dict(), "treasury_allocation": treasury_quantity,
            "success_fee": fee, "issuer_proceeds": proceeds}


def change_status(conn: Connection, actor: Actor, token_ref: str, action: str) -> Token:
    """pause or resume a token (admins only); mature and delist go through retire()."""
    policy.require(actor, "token.lifecycle")
    if action in RETIRE_ACTIONS:  # they close the market, which takes more than one transaction
        raise InvalidInput(f"{action} goes through lifecycle.retire (it closes the market)",
                           field="action")
    if action not in ("pause", "resume"):
        raise InvalidInput(f"unknown token action: {action}", field="action")
    return _move(conn, actor, get_token(conn, token_ref, for_update=True), action)


def retire(db: Engine, actor: Actor, token_ref: str, action: str,
           limits: NotionalLimits) -> Token:
    """mature or delist a token, then close its market (closing.py): open orders and pending
    OTC orders cancelled, their funds back with their owners."""
    policy.require(actor, "token.lifecycle")
    if action not in RETIRE_ACTIONS:
        raise InvalidInput(f"retire means mature or delist, not {action}", field="action")
    with db.begin() as conn:
        token = _move(conn, actor, get_token(conn, token_ref, for_update=True), action)
    close_market(db, actor, token.id, limits)
    return token


def mature_due(db: Engine, actor: Actor, limits: NotionalLimits,
               now: datetime | None = None) -> list[Token]:
    """Mature every trading token whose maturity date has passed; safe to run twice at once."""
    policy.require(actor, "token.mature_due")
    with db.begin() as conn:
        if not locks.try_lock_xact(conn, locks.MATURE_DUE_XACT):
            return []
        due = list(conn.execute(text(
            "SELECT id FROM tokens WHERE status IN ('secondary', 'paused') AND maturity_date <= :now"
            " ORDER BY maturity_date, id"), {"now": now or datetime.now().astimezone()}).scalars())
        matured = [_move(conn, actor, get_token(conn, str(token_id), for_update=True), "mature")
                   for token_id in due]
    for token in matured:
        close_market(db, actor, token.id, limits)
    return matured


def _move(conn: Connection, actor: Actor, token: Token, action: str, **changes: Any) -> Token:
    transition(conn, "tokens", token.id, TOKEN_FLOW, action, returning="id", **changes)
    if action in ON_CHAIN_ACTIONS:  # the chain follows: a job pauses or unpauses the token
        queue_job(conn, actor, token.id, "status")
    moved = get_token(conn, str(token.id))
    actor.audit(conn, f"token.{action}", "token", token.id,
                before={"status": token.status, "trading_mode": token.trading_mode},
                after={"status": moved.status, "trading_mode": moved.trading_mode, **changes})
    return moved


def _go_live_allocation(conn: Connection, actor: Actor, token: Token) -> int:
    """The treasury receives the platform's share of the supply, and the issuer the team and
    reserve shares, each minted like any allocation; returns the treasury's quantity."""
    pct = token.platform_pct
    if pct is None:  # a token created before the share was fixed at creation
        pct = conn.execute(text("SELECT alef_allocation_pct FROM businesses WHERE id = :b"),
                           {"b": token.business_id}).scalar_one()
    quantity = int(token.total_supply * pct // 100)
    if token.tokens_sold + quantity > token.total_supply:
        raise Conflict(f"the treasury allocation of {quantity} would exceed the supply")
    shares = [(treasury_id(conn), "go_live", quantity),
              (token.issuer_id, "team", int(token.total_supply * token.team_pct // 100)),
              (token.issuer_id, "reserve", int(token.total_supply * token.reserve_pct // 100))]
    for user_id, kind, share in shares:
        if share == 0:
            continue
        allocation_id = new_id()
        conn.execute(text(
            "INSERT INTO token_allocations (id, token_id, user_id, quantity, allocation_type,"
            " status, confirmed_by, confirmed_at) VALUES (:id, :t, :u, :q, :kind, 'confirmed',"
            " :by, now())"), {"id": allocation_id, "t": token.id, "u": user_id, "q": share,
                              "kind": kind, "by": actor.user_id})
        credit_tokens(conn, user_id, token.id, share)
        actor.audit(conn, "token.go_live_allocation", "token_allocation", allocation_id,
                    after={"token": token.symbol, "quantity": share, "kind": kind,
                           "lockup_until": None if kind == "go_live" else token.lockup_until})
    return quantity


def _pay_out_escrow(conn: Connection, actor: Actor, token: Token,
                    success_fee_pct: Decimal) -> tuple[Decimal, Decimal]:
    """Escrow to the issuer, less the success fee (rounded down to the cent) to the treasury."""
    raised = token.escrow_balance
    fee = cents_down(raised * success_fee_pct / 100)
    proceeds = raised - fee
    treasury = treasury_id(conn)
    # Lock order of the spec: the treasury before the issuer.
    for user_id, amount, kind in ((treasury, fee, "success_fee"),
                                  (token.issuer_id, proceeds, "proceeds")):
        if amount == 0:
            continue
        move_money(conn, user_id, token.raise_currency, amount, Entry(
            kind, token_id=token.id, reference=("token", token.id), created_by=actor.user_id))
    conn.execute(text("UPDATE tokens SET escrow_balance = escrow_balance - :a WHERE id = :t"),
                 {"a": raised, "t": token.id})
    actor.audit(conn, "token.pay_out_escrow", "token", token.id,
                after={"raised": raised, "success_fee": fee, "issuer_proceeds": proceeds})
    return fee, proceeds
