"""Wallet recovery (four-eyes): a holder's lost wallet is replaced by a new one.

`request_recovery` records the request; a second admin's approval runs `execute_recovery` in
the approval's transaction: a `wallet_recoveries` row (`moving`) and one `recover` job per
deployed token. The chain worker (holders/jobs.py) moves each token: recoveryAddress registers
the new wallet under the lost one's identity, moves balance, frozen tokens and the freeze flag,
and deletes the lost wallet from the registry (a wallet registered but holding nothing has its
registration moved alone). When every job is done, `complete_recoveries` switches
users.wallet_address to the new wallet in one transaction; until then settlement keeps seeing
the wallet that still holds the tokens.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.errors import Conflict
from alefctl.ids import new_id
from alefctl.workflows import approvals, policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.holders.positions import reason_text, record_operation
from alefctl.workflows.tokens import get_token
from alefctl.workflows.users import User, get_user

KIND = "holder.recover"


def request_recovery(conn: Connection, actor: Actor, user_ref: str, new_wallet: str,
                     reason: str) -> approvals.ApprovalRequest:
    """Ask a second admin to replace a holder's wallet; nothing moves yet."""
    policy.require(actor, KIND)
    why = reason_text(reason)
    user = get_user(conn, user_ref)
    wallet = validation.evm_address(new_wallet, field="new_wallet")
    _check(conn, user, wallet)
    return approvals.request(conn, actor, KIND, {
        "user_id": user.id, "email": user.email, "old_wallet": user.wallet_address,
        "new_wallet": wallet, "reason": why})


def execute_recovery(conn: Connection, actor: Actor, request: approvals.ApprovalRequest
                     ) -> dict[str, Any]:
    """The approved recovery's database step: its record and one job per deployed token."""
    params = request.params
    user = get_user(conn, str(params["user_id"]), for_update=True)
    if user.wallet_address != params["old_wallet"]:
        raise Conflict(f"{user.email}'s wallet is {user.wallet_address} now, not"
                       f" {params['old_wallet']}; request the recovery again")
    _check(conn, user, params["new_wallet"])
    recovery_id = new_id()
    conn.execute(text(
        "INSERT INTO wallet_recoveries (id, user_id, old_wallet, new_wallet, reason, approval_id)"
        " VALUES (:id, :u, :old, :new, :reason, :approval)"),
        {"id": recovery_id, "u": user.id, "old": params["old_wallet"], "new": params["new_wallet"],
         "reason": params["reason"], "approval": request.id})
    symbols = list(conn.execute(text(
        "SELECT symbol FROM tokens WHERE contract_address IS NOT NULL ORDER BY symbol")).scalars())
    for symbol in symbols:
        record_operation(conn, actor, "recover", get_token(conn, symbol), user.id, params["reason"],
                         from_wallet=params["old_wallet"], to_wallet=params["new_wallet"],
                         approval_id=request.id, recovery_id=recovery_id)
    actor.audit(conn, KIND, "wallet_recovery", recovery_id, before={"wallet": user.wallet_address},
                after={"new_wallet": params["new_wallet"], "tokens": symbols,
                       "reason": params["reason"], "approval_id": request.id})
    if not symbols:  # nothing on-chain to move
        _complete(conn, actor, recovery_id)
    return {"recovery_id": recovery_id, "email": user.email, "tokens": symbols,
            "status": "moving" if symbols else "completed"}


def complete_recoveries(db: Engine, actor: Actor | None = None) -> int:
    """Switch the wallet of every recovery whose tokens all moved; returns how many."""
    from alefctl.workflows.service import service_actor

    with db.begin() as conn:
        ready = list(conn.execute(text(
            "SELECT r.id FROM wallet_recoveries r WHERE r.status = 'moving' AND NOT EXISTS"
            " (SELECT 1 FROM agent_operations o WHERE o.recovery_id = r.id AND o.chain_status"
            " NOT IN ('done', 'skipped')) ORDER BY r.created_at FOR UPDATE OF r SKIP LOCKED"))
            .scalars())
        acting = actor or (service_actor(conn) if ready else None)
        for recovery_id in ready:
            _complete(conn, acting, recovery_id)
    return len(ready)


def recovery_state(conn: Connection, actor: Actor, user_ref: str) -> list[dict[str, Any]]:
    """A holder's recoveries, newest first, each with its per-token jobs."""
    policy.require(actor, "holder.read")
    user = get_user(conn, user_ref)
    recoveries = [dict(row._mapping) for row in conn.execute(text(
        "SELECT id, old_wallet, new_wallet, reason, status, created_at, completed_at"
        " FROM wallet_recoveries WHERE user_id = :u ORDER BY created_at DESC"), {"u": user.id})]
    for recovery in recoveries:
        recovery["jobs"] = [dict(row._mapping) for row in conn.execute(text(
            "SELECT o.id, t.symbol, o.chain_status, o.tx_hash, o.chain_error FROM agent_operations o"
            " JOIN tokens t ON t.id = o.token_id WHERE o.recovery_id = :r ORDER BY t.symbol"),
            {"r": recovery["id"]})]
    return recoveries


def _complete(conn: Connection, actor: Any, recovery_id: uuid.UUID) -> None:
    row = conn.execute(text(
        "UPDATE wallet_recoveries SET status = 'completed', completed_at = now() WHERE id = :id"
        " AND status = 'moving' RETURNING user_id, old_wallet, new_wallet"), {"id": recovery_id}).one()
    conn.execute(text("UPDATE users SET wallet_address = :w, updated_at = now() WHERE id = :u"),
                 {"w": row.new_wallet, "u": row.user_id})
    actor.audit(conn, "holder.recover_completed", "wallet_recovery", recovery_id,
                before={"wallet": row.old_wallet}, after={"wallet": row.new_wallet})


def _check(conn: Connection, user: User, wallet: str) -> None:
    if user.wallet_address is None:
        raise Conflict(f"{user.email} has no wallet to recover; set one instead")
    if wallet.lower() == user.wallet_address.lower():
        raise Conflict("the new wallet is the holder's current wallet", field="new_wallet")
    taken = conn.execute(text("SELECT email FROM users WHERE lower(wallet_address) = lower(:w)"
                              " AND id <> :u"), {"w": wallet, "u": user.id}).first()
    if taken is not None:
        raise Conflict("the new wallet belongs to another user", field="new_wallet")
    moving = conn.execute(text("SELECT id FROM wallet_recoveries WHERE user_id = :u"
                               " AND status = 'moving'"), {"u": user.id}).first()
    if moving is not None:
        raise Conflict(f"a recovery of {user.email}'s wallet is under way ({moving.id})")
