"""Dividend review: the issuer submits, an admin other than the declarer approves, either cancels.

draft -> pending_approval -> approved, and cancelled from any of those (transitions.DIVIDEND_FLOW).
The payments of a cancelled declaration stay pending and are never paid: every payer works only
on a declaration that is distributing.

Four-eyes. Submitting is requesting: `submit` opens a four-eyes approval request of kind
`dividend.approve` (workflows/approvals.py) with the issuer as its requester. Approving the
dividend is deciding that request, whichever door it comes through (`alefctl approvals approve
ID`, `alefctl dividend approve`, the console, either HTTP route): the request's row is locked,
then the declaration's, and the request is executed exactly once, in one transaction with the
dividend's move to approved. Rejecting the request cancels the dividend; cancelling the dividend
rejects its open request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from alefctl.errors import Conflict, PermissionDenied
from alefctl.workflows import approvals, policy
from alefctl.workflows.actor import Actor
from alefctl.workflows.dividends.declaration import Dividend, get_dividend
from alefctl.workflows.notifications import notify_role
from alefctl.workflows.transitions import DIVIDEND_FLOW, transition

KIND = "dividend.approve"  # the approval request's kind (approvals.OPERATIONS)


def submit(conn: Connection, actor: Actor, ref: str) -> Dividend:
    """Send a draft to the admins' approval queue (the token's issuer): it becomes a pending
    four-eyes approval request."""
    dividend = get_dividend(conn, actor, ref, for_update=True)
    if actor.user_id != dividend.issuer_id:
        raise PermissionDenied(f"only the issuer of {dividend.symbol} may submit its dividends")
    _snapshot_taken(dividend)
    moved = _move(conn, actor, dividend, "submit")  # a draft only: Conflict otherwise
    # the dividend.submit audit row and notice stand for the request's (its params name the
    # dividend: approvals.open_request_for finds it)
    approvals.request(conn, actor, KIND, _params(moved), notify=False, audited=False)
    notify_role(conn, "admin", "dividend.pending_approval",
                f"{dividend.symbol} {dividend.dividend_type} dividend awaits approval",
                "dividend_declaration", dividend.id)
    return moved


def approve(conn: Connection, actor: Actor, ref: str) -> Dividend:
    """Approve a submitted declaration (an admin who is not the person who declared it): decides
    its approval request, exactly as `alefctl approvals approve` does."""
    policy.require(actor, "dividend.approve")
    dividend = get_dividend(conn, actor, ref)
    _not_the_declarer(actor, dividend)
    pending = approvals.open_request_for(conn, KIND, "dividend_id", dividend.id)
    if pending is None:
        allowed = DIVIDEND_FLOW["approve"][0]
        if dividend.status not in allowed:  # the wording every refused move has (transitions)
            raise Conflict(f"cannot approve: the dividend is {dividend.status}"
                           f" (needs {' or '.join(allowed)})")
        raise Conflict(f"dividend {dividend.id} awaits approval but has no open approval"
                       " request: run `alefctl db init` (migration 0006 opens one)")
    approvals.approve_in(conn, actor, pending.id)
    return get_dividend(conn, actor, str(dividend.id))


def approval_request(conn: Connection, actor: Actor, ref: str) -> approvals.ApprovalRequest | None:
    """The open approval request of a declaration, if it has one (admins and its issuer)."""
    dividend = get_dividend(conn, actor, ref)
    return approvals.open_request_for(conn, KIND, "dividend_id", dividend.id)


def cancel(conn: Connection, actor: Actor, ref: str, reason: str | None = None) -> Dividend:
    """Cancel a declaration before its distribution starts (the token's issuer, or an admin);
    its open approval request is rejected with it."""
    dividend = get_dividend(conn, actor, ref)
    if actor.user_id != dividend.issuer_id:
        policy.require(actor, "dividend.cancel.others")
    why = (reason or "").strip() or None
    pending = approvals.open_request_for(conn, KIND, "dividend_id", dividend.id)  # lock order
    cancelled = _cancel(conn, actor, get_dividend(conn, actor, ref, for_update=True), why)
    if pending is not None:
        approvals.close(conn, actor, pending, why or "the dividend was cancelled")
    return cancelled


def execute_approval(conn: Connection, actor: Actor, dividend_id: str) -> dict[str, Any]:
    """The approval request's operation: move the declaration to approved (run by
    approvals.approve once the request is locked; not a front end's entry point)."""
    dividend = get_dividend(conn, actor, dividend_id, for_update=True)
    _not_the_declarer(actor, dividend)
    policy.require(actor, "dividend.approve")
    approved = _move(conn, actor, dividend, "approve", approved_by=actor.user_id,
                     approved_at=datetime.now().astimezone())
    return {"dividend_id": str(approved.id), "symbol": approved.symbol, "status": approved.status}


def cancel_rejected(conn: Connection, actor: Actor, dividend_id: str, reason: str) -> None:
    """What rejecting a dividend's approval request does: the declaration is cancelled."""
    dividend = get_dividend(conn, actor, dividend_id, for_update=True)
    _cancel(conn, actor, dividend, f"approval rejected: {reason}"[:1000])


def _cancel(conn: Connection, actor: Actor, dividend: Dividend, reason: str | None) -> Dividend:
    return _move(conn, actor, dividend, "cancel", cancelled_at=datetime.now().astimezone(),
                 cancel_reason=reason)


def _snapshot_taken(dividend: Dividend) -> None:
    if dividend.status == "draft" and dividend.snapshot_taken_at is None:
        raise Conflict(f"the record date {dividend.record_date.isoformat()} has not passed: the"
                       " holders are snapshotted when it does (`alefctl dividend snapshot-due`)")
    if dividend.status == "draft" and dividend.holder_count == 0:
        raise Conflict(f"{dividend.symbol} had no holders to pay at the record date; cancel it")


def _not_the_declarer(actor: Actor, dividend: Dividend) -> None:
    if actor.user_id == dividend.declared_by:
        raise PermissionDenied("the person who declared a dividend may not approve it;"
                               " another admin must")


def _params(dividend: Dividend) -> dict[str, Any]:
    return {"dividend_id": str(dividend.id), "symbol": dividend.symbol,
            "dividend_type": dividend.dividend_type, "per_token_usd": dividend.per_token_usd,
            "per_token_qty": dividend.per_token_qty, "holder_count": dividend.holder_count,
            "total_gross_usd": dividend.total_gross_usd, "declared_by": dividend.declared_by_email}


def _move(conn: Connection, actor: Actor, dividend: Dividend, action: str, **changes: object) -> Dividend:
    transition(conn, "dividend_declarations", dividend.id, DIVIDEND_FLOW, action, returning="id",
               **changes)
    actor.audit(conn, f"dividend.{action}", "dividend_declaration", dividend.id,
                before={"status": dividend.status},
                after={"status": DIVIDEND_FLOW[action][1], **changes})
    return get_dividend(conn, actor, str(dividend.id))
