"""Dividend review: the issuer submits, an admin other than the declarer approves, either cancels.

draft -> pending_approval -> approved, and cancelled from any of those (transitions.DIVIDEND_FLOW).
The payments of a cancelled declaration stay pending and are never paid: every payer works only
on a declaration that is distributing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from alefctl.errors import PermissionDenied
from alefctl.workflows import policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends.declaration import Dividend, get_dividend
from alefctl.workflows.notifications import notify_role
from alefctl.workflows.transitions import DIVIDEND_FLOW, transition


def submit(conn: Connection, actor: Actor, ref: str) -> Dividend:
    """Send a draft to the admins' approval queue (the token's issuer)."""
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if actor.user_id != dividend.issuer_id:
        raise PermissionDenied(f"only the issuer of {dividend.symbol} may submit its dividends")
    moved = _move(conn, actor, dividend, "submit")
    notify_role(conn, "admin", "dividend.pending_approval",
                f"{dividend.symbol} {dividend.dividend_type} dividend awaits approval",
                "dividend_declaration", dividend.id)
    return moved


def approve(conn: Connection, actor: Actor, ref: str) -> Dividend:
    """Approve a submitted declaration (an admin who is not the person who declared it)."""
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if actor.user_id == dividend.declared_by:
        raise PermissionDenied("the person who declared a dividend may not approve it;"
                               " another admin must")
    policy.require(actor, "dividend.approve")
    return _move(conn, actor, dividend, "approve", approved_by=actor.user_id,
                 approved_at=datetime.now().astimezone())


def cancel(conn: Connection, actor: Actor, ref: str, reason: str | None = None) -> Dividend:
    """Cancel a declaration before its distribution starts (the token's issuer, or an admin)."""
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if actor.user_id != dividend.issuer_id:
        policy.require(actor, "dividend.cancel.others")
    return _move(conn, actor, dividend, "cancel", cancelled_at=datetime.now().astimezone(),
                 cancel_reason=(reason or "").strip() or None)


def _move(conn: Connection, actor: Actor, dividend: Dividend, action: str, **changes: object) -> Dividend:
    transition(conn, "dividend_declarations", dividend.id, DIVIDEND_FLOW, action, returning="id",
               **changes)
    actor.audit(conn, f"dividend.{action}", "dividend_declaration", dividend.id,
                before={"status": dividend.status},
                after={"status": DIVIDEND_FLOW[action][1], **changes})
    return get_dividend(conn, actor, str(dividend.id))
