"""The gas a token's operations cost, per kind of operation (`alefctl chain gas --token`).

Every transaction alefctl sends is in the journal (gas_transactions) with its purpose: the
deployment's steps ('deploy:...'), 'identity' registrations, 'mint', 'burn', 'settlement',
'token_state:...' and 'agent:...' operations. The report groups a token's transactions by that
purpose, so an issuer's chain costs can be charged back to it. Gas is counted for mined
transactions (confirmed or reverted: a reverted one spent its gas too); the fee in wei is
gas_used * the effective gas price (0 on the embedded chain and on anvil by default).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.tokens import get_token

GAS_BY_PURPOSE = text(
    "SELECT purpose AS operation, count(*) AS transactions,"
    " count(*) FILTER (WHERE status = 'confirmed') AS confirmed,"
    " count(*) FILTER (WHERE status = 'reverted') AS reverted,"
    " count(*) FILTER (WHERE status IN ('sent', 'dropped')) AS unmined,"
    " COALESCE(sum(gas_used), 0) AS gas_used, min(gas_used) AS min_gas, max(gas_used) AS max_gas,"
    " COALESCE(sum(gas_used * COALESCE(gas_price_wei, 0)), 0) AS fee_wei"
    " FROM gas_transactions WHERE token_id = :t GROUP BY purpose ORDER BY purpose")


def token_gas(conn: Connection, actor: Actor, ref: str) -> dict[str, Any]:
    """A token's gas per operation kind, with totals; its issuer, admins and operators only."""
    policy.require(actor, "chain.gas")
    token = get_token(conn, ref)
    if actor.user_id != token.issuer_id:
        policy.require(actor, "chain.gas.others")
    operations = []
    for row in conn.execute(GAS_BY_PURPOSE, {"t": token.id}):
        mined = row.confirmed + row.reverted
        operations.append({
            "operation": row.operation, "transactions": row.transactions,
            "confirmed": row.confirmed, "reverted": row.reverted, "unmined": row.unmined,
            "gas_used": int(row.gas_used),
            "average_gas": int(row.gas_used) // mined if mined else None,
            "min_gas": row.min_gas, "max_gas": row.max_gas, "fee_wei": str(int(row.fee_wei))})
    issuer = conn.execute(text("SELECT u.email, b.company_name FROM users u JOIN businesses b"
                               " ON b.id = :b WHERE u.id = :u"),
                          {"b": token.business_id, "u": token.issuer_id}).one()
    return {"token": token.symbol, "issuer": issuer.email, "business": issuer.company_name,
            "operations": operations,
            "total_transactions": sum(op["transactions"] for op in operations),
            "total_gas_used": sum(op["gas_used"] for op in operations),
            "total_fee_wei": str(sum(int(op["fee_wei"]) for op in operations))}
