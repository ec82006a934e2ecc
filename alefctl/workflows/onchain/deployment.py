"""Where a token's deployment stands, read from the database alone (so any process, and a
restarted server, sees the same): the token's addresses, the deploy:* transactions of the
journal (gas_transactions), the deployment's advisory lock (held while some process deploys)
and the last recorded failure (audit action token.deploy_failed).

status is one of
- not_deployed: nothing sent yet;
- deploying: a process holds the deployment's lock;
- failed: the last attempt stopped with `error`; deploying again resumes it;
- incomplete: steps were sent but nothing runs and no failure was recorded (a process died);
  deploying again resumes it;
- deployed: the addresses are recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from alefctl.db import locks
from alefctl.workflows.onchain.deploy import DEPLOY_FAILED, DEPLOY_PURPOSE, lock_key
from alefctl.workflows.tokens import Token, get_token

STEP_STATES = {"sent": "recorded", "confirmed": "mined", "reverted": "reverted",
               "dropped": "dropped"}

DEPLOY_ROWS = text(
    "SELECT purpose, tx_hash, status, gas_used, block_number, created_at,"
    " COALESCE(confirmed_at, created_at) AS changed_at FROM gas_transactions"
    " WHERE token_id = :t AND purpose LIKE 'deploy:%' ORDER BY created_at")
LAST_FAILURE = text(
    "SELECT after ->> 'error' AS error, created_at FROM audit_logs WHERE object_type = 'token'"
    " AND object_id = :t AND action = :action ORDER BY created_at DESC LIMIT 1")


def deployment_state(conn: Connection, token_ref: str) -> dict[str, Any]:
    """The deployment of a token: status, each of the five steps, addresses, error."""
    token = get_token(conn, token_ref)
    rows = {row.purpose.removeprefix(DEPLOY_PURPOSE): row
            for row in conn.execute(DEPLOY_ROWS, {"t": token.id})}  # the latest row per step
    status, error = _status(conn, token, rows)
    return {"token_id": token.id, "symbol": token.symbol, "status": status,
            "steps": [_step(name, rows.get(name), token) for name in _step_names()],
            "total_gas_used": sum(row.gas_used or 0 for row in rows.values()),
            "addresses": None if token.contract_address is None else {
                "token": token.contract_address,
                "identity_registry": token.identity_registry_addr,
                "compliance": token.compliance_addr},
            "error": error}


def _status(conn: Connection, token: Token, rows: dict[str, Any]) -> tuple[str, str | None]:
    if token.contract_address is not None:
        return "deployed", None
    if locks.is_held(conn, lock_key(token.id)):
        return "deploying", None
    failure = conn.execute(LAST_FAILURE, {"t": token.id, "action": DEPLOY_FAILED}).first()
    last_change = max((row.changed_at for row in rows.values()), default=None)
    if failure is not None and (last_change is None or failure.created_at >= last_change):
        return "failed", failure.error
    return ("incomplete" if rows else "not_deployed"), None


def _step(name: str, row: Any, token: Token) -> dict[str, Any]:
    if row is None:  # an agent grant found done on a resume has no transaction of its own
        return {"step": name, "state": "mined" if token.contract_address else "pending",
                "tx_hash": None, "gas_used": None, "block_number": None}
    return {"step": name, "state": STEP_STATES.get(row.status, row.status),
            "tx_hash": row.tx_hash, "gas_used": row.gas_used, "block_number": row.block_number}


def _step_names() -> tuple[str, ...]:
    from chain.deploy import DEPLOY_STEPS

    return DEPLOY_STEPS
