"""Freeze and unfreeze a holder's tokens (admins; audited; DB first, then the chain job).

Without a quantity the whole wallet is frozen (`setAddressFrozen`): the holder may place no sell
order of the token (409 `holder_frozen`) and their open sell orders are cancelled, their tokens
released, after the freeze commits (by the owner of the books); until then, or if that never
runs, no group fills them (trading/frozen.py). With a quantity, that many tokens are frozen
(`freezePartialTokens`): they are taken out of what the holder may sell, so only unlocked
tokens that are not frozen yet can be frozen (cancel sell orders first). Unfreezing clears the
wallet flag, or releases that many tokens.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.errors import Conflict
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.holders.positions import (
    Position,
    lock_position,
    reason_text,
    record_operation,
    whole_tokens,
)
from alefctl.workflows.tokens import get_token
from alefctl.workflows.trading.vocabulary import OPEN_STATUSES_SQL
from alefctl.workflows.users import get_user


def freeze(db: Engine, actor: Actor, token_ref: str, user_ref: str, quantity: int | None,
           reason: str) -> dict[str, Any]:
    """Freeze a holder's wallet (quantity None) or part of it; a whole-wallet freeze cancels the
    holder's open sell orders of the token after it commits."""
    result = _change(db, actor, "freeze", token_ref, user_ref, quantity, reason)
    result["cancelled_orders"] = []
    if quantity is None and not result["already"]:
        result["cancelled_orders"] = _cancel_sells(db, actor, result)
    return result


def unfreeze(db: Engine, actor: Actor, token_ref: str, user_ref: str, quantity: int | None,
             reason: str) -> dict[str, Any]:
    """Clear a wallet's freeze (quantity None) or release that many frozen tokens."""
    return _change(db, actor, "unfreeze", token_ref, user_ref, quantity, reason)


def _change(db: Engine, actor: Actor, kind: str, token_ref: str, user_ref: str,
            quantity: int | None, reason: str) -> dict[str, Any]:
    policy.require(actor, "holder.freeze")
    why = reason_text(reason)
    amount = None if quantity is None else whole_tokens(quantity)
    with db.begin() as conn:
        token = get_token(conn, token_ref, for_update=True)
        user = get_user(conn, user_ref)
        before = lock_position(conn, user.id, token.id)
        after = _apply(conn, kind, before, amount)
        operation_id = None
        if after != before:
            operation_id = record_operation(conn, actor, kind, token, user.id, why,
                                            quantity=amount, from_wallet=user.wallet_address)
            actor.audit(conn, f"holder.{kind}", "agent_operation", operation_id,
                        before=before.to_dict(), after={**after.to_dict(), "quantity": amount,
                                                        "reason": why, "symbol": token.symbol})
    return {"operation_id": operation_id, "kind": kind, "symbol": token.symbol,
            "email": user.email, "user_id": user.id, "token_id": token.id, "quantity": amount,
            "already": after == before, "position": after.to_dict(),
            "chain_status": None if operation_id is None else (
                "pending" if token.contract_address else "skipped")}


def _apply(conn: Connection, kind: str, position: Position, quantity: int | None) -> Position:
    if quantity is None:
        flag = kind == "freeze"
        if position.is_frozen == flag:
            return position  # already done
        conn.execute(text("UPDATE wallets SET is_frozen = :f, updated_at = now()"
                          " WHERE user_id = :u AND token_id = :t"),
                     {"f": flag, "u": position.user_id, "t": position.token_id})
        return Position(position.user_id, position.token_id, position.balance, position.locked,
                        position.frozen_quantity, flag)
    if kind == "freeze":
        room = position.balance - position.locked - position.frozen_quantity
        if quantity > room:
            raise Conflict(f"only {room} tokens are neither frozen nor locked in open sell orders"
                           f" (balance {position.balance}, locked {position.locked}, frozen"
                           f" {position.frozen_quantity}); cancel sell orders first", field="quantity")
        frozen = position.frozen_quantity + quantity
    else:
        if quantity > position.frozen_quantity:
            raise Conflict(f"only {position.frozen_quantity} tokens are frozen; {quantity} asked",
                           field="quantity")
        frozen = position.frozen_quantity - quantity
    conn.execute(text("UPDATE wallets SET frozen_quantity = :f, updated_at = now()"
                      " WHERE user_id = :u AND token_id = :t"),
                 {"f": frozen, "u": position.user_id, "t": position.token_id})
    return Position(position.user_id, position.token_id, position.balance, position.locked,
                    frozen, position.is_frozen)


def _cancel_sells(db: Engine, actor: Actor, result: dict[str, Any]) -> list[dict[str, Any]]:
    from alefctl.workflows.trading.control import CANCEL_ONLY, cancel_orders

    with db.connect() as conn:
        order_ids: list[uuid.UUID] = list(conn.execute(text(
            f"SELECT id FROM orders WHERE user_id = :u AND token_id = :t AND side = 'sell'"
            f" AND status IN {OPEN_STATUSES_SQL} ORDER BY engine_seq, created_at"),
            {"u": result["user_id"], "t": result["token_id"]}).scalars())
    if not order_ids:
        return []
    try:
        return cancel_orders(db, actor, order_ids, CANCEL_ONLY)
    except Conflict:  # the one order filled before the server got to it: nothing left to cancel
        return []
