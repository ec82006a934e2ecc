"""Status flows of the spec, one table each, and the conditional UPDATE that applies them.

A transition is `UPDATE ... WHERE id = :id AND status = ANY(:allowed_from) RETURNING ...`, so a
concurrent change makes the loser fail cleanly with a Conflict instead of corrupting state.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, text

from alefctl.errors import Conflict, NotFound

# action -> (statuses it may start from, status it leads to)
TOKEN_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "start_offering": (("draft",), "primary"),
    "enable_secondary": (("primary",), "secondary"),
    "cancel": (("primary",), "cancelled"),  # offering cancelled or failed (offering_admin.py)
    "pause": (("secondary",), "paused"),
    "resume": (("paused",), "secondary"),
    "mature": (("secondary", "paused"), "matured"),
    "delist": (("secondary", "paused"), "delisted"),
    "redeem": (("matured",), "redeemed"),  # holders paid and tokens burned (redemption.py)
}
BUSINESS_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "approve": (("pending",), "active"),
    "reject": (("pending",), "rejected"),
    "suspend": (("active",), "suspended"),
}
KYC_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "open": (("pending",), "in_review"),
    "approve": (("pending", "in_review"), "approved"),
    "reject": (("pending", "in_review"), "rejected"),
}
# distributing -> distributed is also gated on every payment being paid (dividends/distribution.py).
DIVIDEND_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft",), "pending_approval"),
    "approve": (("pending_approval",), "approved"),
    "start_distribution": (("approved",), "distributing"),
    "finish_distribution": (("distributing",), "distributed"),
    "cancel": (("draft", "pending_approval", "approved"), "cancelled"),
}
# Four-eyes (workflows/approvals.py): a database-only operation is approved and executed in one
# transaction (pending -> executed); an execution the operation refused is failed, and may be
# approved again. 'approved' (to be executed later, outside the database) has no flow yet.
APPROVAL_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "execute": (("pending", "failed"), "executed"),
    "fail": (("pending", "failed"), "failed"),
    "reject": (("pending", "failed"), "rejected"),
}
# Surveillance triage (workflows/surveillance.py): someone acknowledges an alert (owning it), then
# dismisses it (no abuse) or escalates it (to compliance or the regulator); the obvious cases may be
# dismissed or escalated straight from open.
SURVEILLANCE_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("open",), "acknowledged"),
    "dismiss": (("open", "acknowledged"), "dismissed"),
    "escalate": (("open", "acknowledged"), "escalated"),
}
# Investors' withdrawal requests (workflows/account/withdrawals.py): an admin confirms one (at
# or above the four-eyes threshold it first awaits a second admin), rejects it, or its investor
# cancels it while nobody has looked at it yet.
WITHDRAWAL_FLOW: Mapping[str, tuple[tuple[str, ...], str]] = {
    "await_approval": (("pending",), "awaiting_approval"),
    "complete": (("pending", "awaiting_approval"), "completed"),
    "reject": (("pending", "awaiting_approval"), "rejected"),
    "cancel": (("pending",), "cancelled"),
}
TABLES = {"tokens": "token", "businesses": "business", "kyc_applications": "KYC application",
          "dividend_declarations": "dividend", "approval_requests": "approval request",
          "surveillance_alerts": "alert", "withdrawal_requests": "withdrawal request"}


def transition(
    conn: Connection,
    table: str,
    object_id: uuid.UUID,
    flow: Mapping[str, tuple[tuple[str, ...], str]],
    action: str,
    returning: str = "*",
    **changes: Any,
) -> Row[Any]:
    """Move one row along its flow, setting extra columns; Conflict if its status forbids it."""
    allowed_from, target = flow[action]
    assignments = "".join(f", {column} = :{column}" for column in changes)
    row = conn.execute(
        text(
            f"UPDATE {table} SET status = :target, updated_at = now(){assignments}"
            f" WHERE id = :id AND status = ANY(:allowed) RETURNING {returning}"
        ),
        {"target": target, "id": object_id, "allowed": list(allowed_from), **changes},
    ).first()
    if row is not None:
        return row
    current = conn.execute(
        text(f"SELECT status FROM {table} WHERE id = :id"), {"id": object_id}
    ).scalar()
    noun = TABLES[table]
    if current is None:
        raise NotFound(f"{noun} not found: {object_id}")
    raise Conflict(
        f"cannot {action.replace('_', ' ')}: the {noun} is {current}"
        f" (needs {' or '.join(allowed_from)})"
    )
