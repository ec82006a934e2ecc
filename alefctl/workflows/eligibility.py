"""Changes that take away a user's right to trade: deactivation, KYC revocation, a FATCA block.

Each commits the change, audited, and then, in the same call, has the owner of the books cancel
the user's open orders and pending stops (trading/control.py: a running server, or this process
when none runs), so that their locked money and tokens come back. Run again, it finishes what a
crash between the two left; a server cancels what it finds of such orders when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from alefctl.errors import Conflict, InvalidInput
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.trading.control import close_trader_orders
from alefctl.workflows.users import User, get_user, set_activation

FATCA_STATUSES = ("clear", "blocked")


@dataclass(frozen=True)
class Withdrawn:
    """A user after the change, whether it changed anything, and the orders it cancelled."""

    user: User
    changed: bool
    cancelled_orders: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """The --json shape: the user, `changed` and `cancelled_orders`."""
        return {**self.user.to_dict(), "changed": self.changed,
                "cancelled_orders": self.cancelled_orders}


def deactivate_user(db: Engine, actor: Actor, user_ref: str) -> Withdrawn:
    """Deactivate a user (admins only) and cancel their open orders."""
    with db.begin() as conn:
        user, changed = set_activation(conn, actor, user_ref, False)
    return Withdrawn(user, changed, close_trader_orders(db, user.id))


def revoke_kyc(db: Engine, actor: Actor, user_ref: str, reason: str) -> Withdrawn:
    """Revoke a user's approved KYC (reviewers; with a reason): the user is `rejected` again and
    may resubmit; their open orders are cancelled."""
    policy.require(actor, "kyc.revoke")
    reason = validation.non_empty(reason, field="reason", max_length=500)
    with db.begin() as conn:
        user = get_user(conn, user_ref, for_update=True)
        if user.id == actor.user_id:
            raise Conflict("reviewers may not revoke their own KYC")
        changed = user.kyc_status == "approved"
        if not changed and user.kyc_status != "rejected":
            raise Conflict(f"{user.email} has no approved KYC to revoke (status {user.kyc_status})")
        if changed:
            conn.execute(text("UPDATE users SET kyc_status = 'rejected', updated_at = now()"
                              " WHERE id = :u"), {"u": user.id})
            actor.audit(conn, "kyc.revoke", "user", user.id, before={"kyc_status": "approved"},
                        after={"kyc_status": "rejected", "reason": reason})
        user = get_user(conn, str(user.id))
    return Withdrawn(user, changed, close_trader_orders(db, user.id))


def set_fatca_status(db: Engine, actor: Actor, user_ref: str, status: str,
                     reason: str) -> Withdrawn:
    """Set a user's FATCA status (admins only; with a reason); `blocked` cancels their orders."""
    policy.require(actor, "user.fatca")
    if status not in FATCA_STATUSES:
        raise InvalidInput(f"FATCA status must be one of {', '.join(FATCA_STATUSES)}",
                           field="status")
    reason = validation.non_empty(reason, field="reason", max_length=500)
    with db.begin() as conn:
        user = get_user(conn, user_ref, for_update=True)
        if user.is_system:
            raise Conflict(f"{user.email} is a system user and cannot be changed")
        changed = user.fatca_status != status
        if changed:
            conn.execute(text("UPDATE users SET fatca_status = :s, updated_at = now()"
                              " WHERE id = :u"), {"s": status, "u": user.id})
            actor.audit(conn, "user.fatca", "user", user.id,
                        before={"fatca_status": user.fatca_status},
                        after={"fatca_status": status, "reason": reason})
        user = get_user(conn, str(user.id))
    return Withdrawn(user, changed, close_trader_orders(db, user.id))
