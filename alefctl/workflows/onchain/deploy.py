"""Token deployment: the spec's five transactions, resumable, every one in gas_transactions.

Each transaction is recorded (hash, nonce) in its own committed database transaction before it
is waited for, and its receipt as soon as it is mined; a re-run passes the recorded hashes back
to the chain client, which reuses the mined steps, so a failure part-way never leads to a second
suite. The addresses are written once, at the end; the database refuses to change them
afterwards. A failure after the deployment began is recorded (audit action token.deploy_failed,
with its text) for deployment.py to show.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.chain_access import chain_errors
from alefctl.db import locks
from alefctl.errors import AlefError, Conflict
from alefctl.redact import get_logger, mask_secrets
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.onchain.journal import record_receipt, record_sent
from alefctl.workflows.tokens import Token, get_token

if TYPE_CHECKING:
    from chain import ChainClient, SentTransaction, TxReceipt

DEPLOY_PURPOSE = "deploy:"
DEPLOY_FAILED = "token.deploy_failed"
log = get_logger("alefctl.deploy")


def deploy_token(db: Engine, actor: Actor, token_ref: str, client: ChainClient) -> dict[str, Any]:
    """Deploy (or finish deploying) a draft token's suite; returns addresses and gas."""
    policy.require(actor, "token.deploy")
    with db.connect() as lock_conn:
        token = _start(lock_conn, token_ref)
        if token.contract_address is not None:
            return {"token": token.to_dict(), "already_deployed": True, "steps": []}
        try:
            result, deployed = _deploy(db, actor, token, client)
        except Exception as error:
            record_deploy_failure(db, actor, token.id, error)
            raise
        finally:
            locks.unlock(lock_conn, lock_key(token.id))
            lock_conn.commit()
    return {"token": deployed.to_dict(), "already_deployed": False,
            "steps": [{"step": s.step, "tx_hash": s.tx_hash, "gas_used": s.gas_used}
                      for s in result.steps], "total_gas_used": result.total_gas_used}


def _deploy(db: Engine, actor: Actor, token: Token, client: ChainClient) -> tuple[Any, Token]:
    recorded = _recorded_hashes(db, token.id)

    def record(step: str, sent: SentTransaction) -> None:
        with db.begin() as conn:
            record_sent(conn, token.id, DEPLOY_PURPOSE + step, sent)

    def mined(_step: str, receipt: TxReceipt) -> None:
        with db.begin() as conn:
            record_receipt(conn, receipt)

    with chain_errors():
        result = client.deploy_suite(token.name, token.symbol, token.decimals,
                                     recorded_hashes=recorded, on_sent=record, on_mined=mined)
    with db.begin() as conn:
        return result, _store_addresses(conn, actor, token, result, client.signer_address)


def check_deployable(token: Token) -> None:
    """Conflict unless the token is deployed already or a draft (only a draft is deployed)."""
    if token.contract_address is None and token.status != "draft":
        raise Conflict(f"{token.symbol} is {token.status}; only a draft token is deployed")


def record_deploy_failure(db: Engine, actor: Actor, token_id: uuid.UUID,
                          error: BaseException) -> None:
    """Keep why a deployment stopped (in its own transaction; the database may be the cause,
    and then nothing can be kept: the failure is logged instead)."""
    from alefctl.db.errors import database_error, first_line

    known = error if isinstance(error, AlefError) else database_error(error)
    text_of_error = mask_secrets(known.message if known is not None else (
        f"{type(error).__name__}: {first_line(error)}"))
    try:
        with db.begin() as conn:
            actor.audit(conn, DEPLOY_FAILED, "token", token_id, after={"error": text_of_error})
    except Exception:  # noqa: BLE001 - the original error is the one to raise
        log.warning("the failure of deploying token %s was not recorded", token_id,
                    exc_info=True)


def _start(lock_conn: Connection, token_ref: str) -> Token:
    with lock_conn.begin():
        token = get_token(lock_conn, token_ref)
    if token.contract_address is not None:
        return token
    check_deployable(token)
    got = locks.try_lock(lock_conn, lock_key(token.id))
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


def lock_key(token_id: uuid.UUID) -> locks.AdvisoryKey:
    """The advisory lock of a token's deployment."""
    return locks.token_key(locks.DEPLOY_CLASS, token_id)
