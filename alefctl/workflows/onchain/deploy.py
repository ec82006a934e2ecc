"""Token deployment: the spec's five transactions, resumable, every one in gas_transactions.

Each transaction is recorded (hash, nonce) in its own committed database transaction before it
is waited for; a re-run passes the recorded hashes back to the chain client, which reuses the
mined steps, so a failure part-way never leads to a second suite. The addresses are written
once, at the end; the database refuses to change them afterwards.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.chain_access import chain_errors
from alefctl.db import locks
from alefctl.errors import Conflict
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.onchain.journal import record_receipt, record_sent
from alefctl.workflows.tokens import Token, get_token

if TYPE_CHECKING:
    from chain import ChainClient, SentTransaction

DEPLOY_PURPOSE = "deploy:"


def deploy_token(db: Engine, actor: Actor, token_ref: str, client: ChainClient) -> dict[str, Any]:
    """Deploy (or finish deploying) a draft token's suite; returns addresses and gas."""
    policy.require(actor, "token.deploy")
    with db.connect() as lock_conn:
        token = _start(lock_conn, token_ref)
        if token.contract_address is not None:
            return {"token": token.to_dict(), "already_deployed": True, "steps": []}
        try:
            result, deployed = _deploy(db, actor, token, client)
        finally:
            locks.unlock(lock_conn, locks.token_key(locks.DEPLOY_CLASS, token.id))
            lock_conn.commit()
    return {"token": deployed.to_dict(), "already_deployed": False,
            "steps": [{"step": s.step, "tx_hash": s.tx_hash, "gas_used": s.gas_used}
                      for s in result.steps], "total_gas_used": result.total_gas_used}


def _deploy(db: Engine, actor: Actor, token: Token, client: ChainClient) -> tuple[Any, Token]:
    recorded = _recorded_hashes(db, token.id)

    def record(step: str, sent: SentTransaction) -> None:
        with db.begin() as conn:
            record_sent(conn, token.id, DEPLOY_PURPOSE + step, sent)

    with chain_errors():
        result = client.deploy_suite(token.name, token.symbol, token.decimals,
                                     recorded_hashes=recorded, on_sent=record)
        receipts = [client.receipt_of(step.tx_hash) for step in result.steps if step.tx_hash]
    with db.begin() as conn:
        for receipt in receipts:
            if receipt is not None:
                record_receipt(conn, receipt)
        return result, _store_addresses(conn, actor, token, result, client.signer_address)


def _start(lock_conn: Connection, token_ref: str) -> Token:
    with lock_conn.begin():
        token = get_token(lock_conn, token_ref)
    if token.contract_address is not None:
        return token
    if token.status != "draft":
        raise Conflict(f"{token.symbol} is {token.status}; only a draft token is deployed")
    got = locks.try_lock(lock_conn, locks.token_key(locks.DEPLOY_CLASS, token.id))
    lock_conn.commit()
    if not got:
        raise Conflict(f"{token.symbol} is being deployed by another process")
    return token


def _recorded_hashes(db: Engine, token_id: uuid.UUID) -> dict[str, str]:
    with db.connect() as conn:
        rows = conn.execute(text(
            "SELECT purpose, tx_hash FROM gas_transactions WHERE token_id = :t AND purpose LIKE"
            " 'deploy:%' AND status <> 'reverted' ORDER BY created_at"), {"t": token_id})
        return {row.purpose.removeprefix(DEPLOY_PURPOSE): row.tx_hash for row in rows}


def _store_addresses(conn: Connection, actor: Actor, token: Token, result: Any,
                     signer: str) -> Token:
    conn.execute(text(
        "UPDATE tokens SET contract_address = :token, identity_registry_addr = :ir,"
        " compliance_addr = :compliance, deployed_at = now(), updated_at = now()"
        " WHERE id = :id AND contract_address IS NULL"),
        {"token": result.token, "ir": result.identity_registry, "compliance": result.compliance,
         "id": token.id})
    # The platform signer's wallet holds the treasury's tokens unless ops set another.
    conn.execute(text("UPDATE users SET wallet_address = :w WHERE email = 'treasury@system.alefctl'"
                      " AND wallet_address IS NULL"), {"w": signer})
    actor.audit(conn, "token.deploy", "token", token.id, after={
        "contract_address": result.token, "identity_registry_addr": result.identity_registry,
        "compliance_addr": result.compliance, "gas_used": result.total_gas_used})
    return get_token(conn, str(token.id))
