"""What admins see of holders: positions beside the chain, and the agent operations' jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from alefctl.errors import Conflict
from alefctl.ids import parse_id
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import Token, get_token

if TYPE_CHECKING:
    from chain import ChainClient

OPERATION_COLUMNS = (
    "o.id, o.kind, t.symbol, u.email, r.email AS to_email, o.quantity, o.reason, o.chain_status,"
    " o.tx_hash, o.chain_error, o.attempts, o.approval_id, o.recovery_id, o.created_at,"
    " o.updated_at")


def holder_positions(conn: Connection, actor: Actor, token_ref: str) -> tuple[Token, list[dict[str, Any]]]:
    """Every holder of a token (a balance, or a freeze): balance, locked in sell orders,
    frozen, and what they may sell; by email."""
    policy.require(actor, "holder.read")
    token = get_token(conn, token_ref)
    rows = conn.execute(text(
        "SELECT u.email, u.wallet_address AS wallet, w.balance, w.locked_balance AS locked,"
        " w.frozen_quantity, w.is_frozen, CASE WHEN w.is_frozen THEN 0 ELSE w.balance"
        " - w.locked_balance - w.frozen_quantity END AS sellable FROM wallets w JOIN users u"
        " ON u.id = w.user_id WHERE w.token_id = :t AND (w.balance > 0 OR w.is_frozen"
        " OR w.frozen_quantity > 0) ORDER BY u.email"), {"t": token.id})
    return token, [dict(row._mapping) for row in rows]


def with_chain(token: Token, holders: list[dict[str, Any]], client: ChainClient) -> None:
    """Add each holder's on-chain balance, frozen tokens and wallet freeze (whole tokens), and
    whether they match the database."""
    unit = 10 ** token.decimals
    for holder in holders:
        wallet = holder["wallet"]
        if token.contract_address is None or wallet is None:
            holder.update(chain_balance=None, chain_frozen=None, chain_is_frozen=None, matches=None)
            continue
        balance = client.balance_of(token.contract_address, wallet) // unit
        frozen = client.frozen_tokens(token.contract_address, wallet) // unit
        is_frozen = client.is_frozen(token.contract_address, wallet)
        holder.update(chain_balance=balance, chain_frozen=frozen, chain_is_frozen=is_frozen,
                      matches=(balance, frozen, is_frozen) == (
                          holder["balance"], holder["frozen_quantity"], holder["is_frozen"]))


def list_operations(conn: Connection, actor: Actor, token_ref: str | None = None,
                    status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Agent operations, newest first (of one token, of one chain status)."""
    policy.require(actor, "holder.read")
    token_id = None if token_ref is None else get_token(conn, token_ref).id
    rows = conn.execute(text(
        f"SELECT {OPERATION_COLUMNS} FROM agent_operations o JOIN tokens t ON t.id = o.token_id"
        " JOIN users u ON u.id = o.user_id LEFT JOIN users r ON r.id = o.to_user_id"
        " WHERE (CAST(:t AS uuid) IS NULL OR o.token_id = :t)"
        " AND (CAST(:s AS text) IS NULL OR o.chain_status = :s)"
        " ORDER BY o.created_at DESC, o.id DESC LIMIT :limit"),
        {"t": token_id, "s": status, "limit": max(1, min(int(limit), 1000))})
    return [dict(row._mapping) for row in rows]


def retry_operation(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """Queue a failed operation's chain job again (after its cause was fixed)."""
    policy.require(actor, "holder.retry")
    operation_id = parse_id(ref, field="operation")
    row = conn.execute(text(
        "UPDATE agent_operations SET chain_status = 'pending', chain_error = NULL, updated_at = now()"
        " WHERE id = :id AND chain_status = 'failed' RETURNING id"), {"id": operation_id}).first()
    if row is None:
        found = conn.execute(text("SELECT chain_status FROM agent_operations WHERE id = :id"),
                             {"id": operation_id}).scalar()
        if found is None:
            from alefctl.errors import NotFound

            raise NotFound(f"agent operation not found: {operation_id}")
        raise Conflict(f"operation {operation_id} is {found}; only a failed one is retried")
    actor.audit(conn, "holder.retry", "agent_operation", operation_id,
                before={"chain_status": "failed"}, after={"chain_status": "pending"})
    return {"operation_id": operation_id, "chain_status": "pending"}


def get_operation(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """One agent operation with its chain job's state."""
    policy.require(actor, "holder.read")
    row = conn.execute(text(
        f"SELECT {OPERATION_COLUMNS} FROM agent_operations o JOIN tokens t ON t.id = o.token_id"
        " JOIN users u ON u.id = o.user_id LEFT JOIN users r ON r.id = o.to_user_id"
        " WHERE o.id = :id"), {"id": parse_id(ref, field="operation")}).first()
    if row is None:
        from alefctl.errors import NotFound

        raise NotFound(f"agent operation not found: {ref}")
    return dict(row._mapping)
