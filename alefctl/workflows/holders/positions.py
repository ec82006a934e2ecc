"""A holder's position in one token as agent operations see it, and the operations' records.

A position (a wallets row) is balance, locked_balance (in open sell orders), frozen_quantity
and is_frozen (the whole wallet). Its unlocked holding is balance - locked_balance: what a
forced transfer or a burn may take. Like the contract's `_releaseShortfall`, they take free
tokens first and unfreeze only the shortfall, so frozen tokens never end up locked.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict, InvalidInput
from alefctl.ids import new_id
from alefctl.workflows import validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import Token, get_token
from alefctl.workflows.users import User, get_user

if TYPE_CHECKING:
    from alefctl.workflows.approvals import ApprovalRequest


@dataclass(frozen=True)
class Position:
    """One holder's tokens of one token, as the database holds them."""

    user_id: uuid.UUID
    token_id: uuid.UUID
    balance: int
    locked: int
    frozen_quantity: int
    is_frozen: bool

    @property
    def unlocked(self) -> int:
        """What agents may take: the balance less what open sell orders hold."""
        return self.balance - self.locked

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output and audit rows."""
        return asdict(self)


def lock_position(conn: Connection, user_id: uuid.UUID, token_id: uuid.UUID) -> Position:
    """The position's row, locked until commit (created empty when the holder has none)."""
    conn.execute(text(
        "INSERT INTO wallets (id, user_id, token_id) VALUES (:id, :u, :t)"
        " ON CONFLICT (user_id, token_id) DO NOTHING"), {"id": new_id(), "u": user_id, "t": token_id})
    row = conn.execute(text(
        "SELECT user_id, token_id, balance, locked_balance AS locked, frozen_quantity, is_frozen"
        " FROM wallets WHERE user_id = :u AND token_id = :t FOR UPDATE"),
        {"u": user_id, "t": token_id}).one()
    return Position(**row._mapping)


def take_unlocked(conn: Connection, position: Position, quantity: int) -> Position:
    """Remove tokens from a position (forced transfer, burn): refused beyond the unlocked
    holding; free tokens go first, then frozen ones (unfrozen as they go)."""
    if quantity > position.unlocked:
        raise Conflict(f"the holder has {position.unlocked} unlocked tokens (balance"
                       f" {position.balance}, {position.locked} locked in open sell orders);"
                       f" {quantity} asked", code="insufficient_funds")
    balance = position.balance - quantity
    frozen = min(position.frozen_quantity, balance - position.locked)
    conn.execute(text(
        "UPDATE wallets SET balance = :b, frozen_quantity = :f, updated_at = now()"
        " WHERE user_id = :u AND token_id = :t"),
        {"b": balance, "f": frozen, "u": position.user_id, "t": position.token_id})
    return Position(position.user_id, position.token_id, balance, position.locked, frozen,
                    position.is_frozen)


def reason_text(reason: str | None) -> str:
    """The operation's reason (required, at most 1,000 characters)."""
    return validation.non_empty(reason or "", field="reason", max_length=1000)


def whole_tokens(quantity: int | None, *, field: str = "quantity") -> int:
    """A quantity of whole tokens above zero."""
    if quantity is None or isinstance(quantity, bool) or int(quantity) != quantity or quantity <= 0:
        raise InvalidInput(f"{field} must be a whole number of tokens above 0 (got {quantity!r})",
                           field=field)
    return int(quantity)


def record_operation(conn: Connection, actor: Actor, kind: str, token: Any, user_id: uuid.UUID,
                     reason: str, **columns: Any) -> uuid.UUID:
    """The operation's row: its database part is done; its chain job waits (or is skipped for
    a token that is not deployed)."""
    operation_id = new_id()
    values = {"to_user_id": None, "quantity": None, "from_wallet": None, "to_wallet": None,
              "approval_id": None, "recovery_id": None, **columns}
    conn.execute(text(
        "INSERT INTO agent_operations (id, kind, token_id, user_id, to_user_id, quantity,"
        " from_wallet, to_wallet, reason, approval_id, recovery_id, requested_by, chain_status)"
        " VALUES (:id, :kind, :t, :u, :to_user_id, :quantity, :from_wallet, :to_wallet, :reason,"
        " :approval_id, :recovery_id, :by, :status)"),
        {"id": operation_id, "kind": kind, "t": token.id, "u": user_id, "reason": reason,
         "by": actor.user_id, "status": "pending" if token.contract_address else "skipped",
         **values})
    return operation_id


def approved_holder(conn: Connection, request: ApprovalRequest, user_key: str
                    ) -> tuple[Token, User]:
    """An approved request's token, its row locked (one decision at a time), and the holder
    whose tokens leave (params[user_key])."""
    params = request.params
    return (get_token(conn, str(params["token_id"]), for_update=True),
            get_user(conn, str(params[user_key])))


def record_approved(conn: Connection, actor: Actor, request: ApprovalRequest, kind: str,
                    token: Token, holder: User, reason: str, shown: dict[str, Any], *,
                    before: dict[str, Any] | None = None, noted: dict[str, Any] | None = None,
                    **columns: Any) -> dict[str, Any]:
    """The database step's end, once the positions changed: the operation's row with its chain
    job to come (DB first: the job resumes from that row, holders/jobs.py), audited under the
    request's kind. The answer and the audit show the token and `shown`; the audit adds
    `noted` and the position `before`."""
    operation_id = record_operation(
        conn, actor, kind, token, holder.id, reason, quantity=request.params["quantity"],
        from_wallet=holder.wallet_address, approval_id=request.id, **columns)
    actor.audit(conn, request.kind, "agent_operation", operation_id, before=before,
                after={"symbol": token.symbol, **shown, **(noted or {})})
    return {"operation_id": operation_id, "symbol": token.symbol, **shown,
            "chain_status": "pending" if token.contract_address else "skipped"}
