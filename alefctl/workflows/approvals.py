"""Four-eyes (maker-checker): a severe operation waits for a second admin.

A severe operation is first a request (`request`): its kind, its parameters and who asked. An
admin other than the requester approves it (`approve`), which runs the operation, or rejects it
with a reason (`reject`). The requester may reject (withdraw) their own request, never approve
it; the table's CHECK holds the same rule.

Exactly once. A database-only operation is approved and executed in one transaction: the
request's row is locked (it is "the object a workflow acts on" of the lock order, before users),
the operation runs on the same connection, and a conditional UPDATE (`WHERE status IN
('pending', 'failed')`) marks the request executed with the operation's result; COMMIT makes the
decision, the money move, their audit rows and the result durable together, or none of them. A
crash anywhere before COMMIT leaves the request as it was (pending) with nothing moved, and
approving it again runs it once. A second approver waits for the row lock and then finds the
request executed (Conflict), or, if the first rolled back, runs it. An error the operation
itself raises (a withdrawal the balance no longer covers) rolls all of it back, and is then
recorded on the request as failed in a transaction of its own; a failed request may be approved
again (it runs then, once) or rejected.

Operations are registered in OPERATIONS: kind -> the policy action both requester and approver
need (or the requester's own, as an issuer submitting a dividend), the executor, how a request
of that kind reads in a list, and what a rejection does to the object the request is about.
An operation that leaves the database (a chain transaction) cannot commit with its approval:
its database step does (forced transfer, burn, wallet recovery: the positions or the recovery
record, and the chain job as an agent_operations row), and the chain worker sends the job
through the journal afterwards (workflows/holders/jobs.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from alefctl.errors import AlefError, Conflict, InvalidInput, NotFound, PermissionDenied
from alefctl.ids import new_id, parse_id
from alefctl.jsonfmt import to_jsonable
from alefctl.workflows import policy, validation
from alefctl.workflows.actor import Actor
from alefctl.workflows.notifications import notify_role
from alefctl.workflows.transitions import APPROVAL_FLOW, transition

STATUSES = ("pending", "approved", "rejected", "executed", "failed")
OPEN_STATUSES = APPROVAL_FLOW["execute"][0]  # pending, failed: may still be approved or rejected


@dataclass(frozen=True)
class ApprovalRequest:
    """A severe operation waiting for, or decided by, a second admin."""

    id: uuid.UUID
    kind: str
    summary: str
    status: str
    params: dict[str, Any]
    requested_by: str  # email
    requested_by_id: uuid.UUID
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    result: dict[str, Any] | None
    executed_at: datetime | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


Executor = Callable[[Connection, Actor, ApprovalRequest], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """A kind of severe operation: who may request and approve it, and how it runs."""

    action: str  # the policy action (workflows/policy.py) of the operation itself
    execute: Executor  # runs the operation on the approval's connection; returns its result
    describe: Callable[[dict[str, Any]], str]  # one line for lists, from the parameters
    request_action: str | None = None  # what the requester needs, when not `action` itself
    # what a rejection does to the object the request approves (a dividend is cancelled)
    on_reject: Callable[[Connection, Actor, ApprovalRequest, str], None] | None = None


def _deposit(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows import wallet

    params = request.params
    return wallet.deposit(conn, actor, params["user_id"], params["amount"], params.get("reference"),
                          approval_id=request.id, currency=params.get("currency")).to_dict()


def _withdraw(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows import wallet

    params = request.params
    return wallet.withdraw(conn, actor, params["user_id"], params["amount"],
                           params.get("reference"), approval_id=request.id,
                           currency=params.get("currency")).to_dict()


def _dividend(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows.dividends import review

    return review.execute_approval(conn, actor, request.params["dividend_id"])


def _dividend_rejected(conn: Connection, actor: Actor, request: ApprovalRequest, reason: str) -> None:
    from alefctl.workflows.dividends import review

    review.cancel_rejected(conn, actor, request.params["dividend_id"], reason)


def _withdrawal(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows.account import withdrawals

    return withdrawals.complete_withdrawal(conn, actor, parse_id(request.params["withdrawal_id"]))


def _withdrawal_rejected(conn: Connection, actor: Actor, request: ApprovalRequest,
                         reason: str) -> None:
    from alefctl.workflows.account import withdrawals

    withdrawals.reject_withdrawal(conn, actor, request.params["withdrawal_id"], reason)


def _dividend_line(params: dict[str, Any]) -> str:
    amount = (f"{params['per_token_qty']} tokens" if params.get("per_token_qty") is not None
              else f"{params.get('per_token_usd')} USD")
    return (f"{params['dividend_type']} dividend of {params['symbol']}: {amount} per token,"
            f" {params.get('holder_count')} holders, declared by {params.get('declared_by')}")[:300]


def _reroute(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows.dividends import failures

    return failures.execute_reroute(conn, actor, request.params)


def _reroute_line(params: dict[str, Any]) -> str:
    return (f"re-route {params['symbol']} dividend payment of {params['holder']}"
            f" ({params['net_amount']} USD net, {params.get('failure_reason')}) to"
            f" {params['to_email']}")[:300]


def _money_line(verb: str, preposition: str) -> Callable[[dict[str, Any]], str]:
    def describe(params: dict[str, Any]) -> str:
        reference = f" ({params['reference']})" if params.get("reference") else ""
        currency = params.get("currency") or "USD"  # requests from before USDC name none
        return (f"{verb} {params['amount']} {currency} {preposition} {params['email']}"
                f"{reference}")[:300]

    return describe


def _holder_operation(name: str) -> Executor:
    """The executor of an agent operation on holders (workflows/holders/): its database step,
    run with the approval; its chain job follows (`alefctl chain work`)."""
    def execute(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
        from alefctl.workflows.holders import recovery, severe

        executors = {"recover": recovery.execute_recovery,
                     "forced_transfer": severe.execute_forced_transfer,
                     "burn": severe.execute_burn}
        return executors[name](conn, actor, request)

    return execute


def _token_withdrawal(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows import custody

    return custody.execute_token_withdrawal(conn, actor, request)


def _token_withdrawal_line(params: dict[str, Any]) -> str:
    from alefctl.workflows import custody

    return custody.describe(params)


def _forced_transfer_line(params: dict[str, Any]) -> str:
    return (f"forced transfer of {params['quantity']} {params['symbol']} from"
            f" {params['from_email']} to {params['to_email']}: {params['reason']}")[:300]


def _burn_line(params: dict[str, Any]) -> str:
    return (f"burn {params['quantity']} {params['symbol']} of {params['from_email']}:"
            f" {params['reason']}")[:300]


def _redeem(conn: Connection, actor: Actor, request: ApprovalRequest) -> dict[str, Any]:
    from alefctl.workflows import redemption

    return redemption.execute_redemption(conn, actor, request)


def _redeem_rejected(conn: Connection, actor: Actor, request: ApprovalRequest, reason: str) -> None:
    from alefctl.workflows import redemption

    redemption.reject_redemption(conn, actor, request, reason)


def _redeem_line(params: dict[str, Any]) -> str:
    return (f"redeem {params['quantity']} {params['symbol']} of {params['holders']} holders at"
            f" {params['price_per_token']} {params['currency']} per token: the issuer pays"
            f" {params['total_due']}")[:300]


def _recover_line(params: dict[str, Any]) -> str:
    return (f"recover {params['email']}'s wallet {params['old_wallet']} to"
            f" {params['new_wallet']}: {params['reason']}")[:300]


# kind -> operation. Forced transfers, burns and wallet recoveries execute their database step
# with the approval and queue their chain job (workflows/holders/).
# A dividend's request is made by its issuer's `dividend submit` (workflows/dividends/review.py)
# and decided here or by `dividend approve`, which approves the same request.
OPERATIONS: dict[str, Operation] = {
    "wallet.deposit": Operation("wallet.deposit", _deposit, _money_line("deposit", "to")),
    "wallet.withdraw": Operation("wallet.withdraw", _withdraw, _money_line("withdraw", "from")),
    "dividend.approve": Operation("dividend.approve", _dividend, _dividend_line,
                                  request_action="dividend.submit", on_reject=_dividend_rejected),
    # an investor's withdrawal request (workflows/account/withdrawals.py) an admin confirmed
    "withdrawal.confirm": Operation("withdrawal.review", _withdrawal,
                                    _money_line("pay out a withdrawal of", "to"),
                                    on_reject=_withdrawal_rejected),
    "holder.force_transfer": Operation("holder.force_transfer", _holder_operation("forced_transfer"),
                                       _forced_transfer_line),
    "token.burn": Operation("token.burn", _holder_operation("burn"), _burn_line),
    "holder.recover": Operation("holder.recover", _holder_operation("recover"), _recover_line),
    "dividend.reroute": Operation("dividend.retry", _reroute, _reroute_line),
    # an investor's token withdrawal (workflows/custody.py): approval takes the tokens off the
    # books and queues the agent job that moves them to the investor's outside wallet
    "token.withdraw": Operation("token_withdrawal.approve", _token_withdrawal,
                                _token_withdrawal_line, request_action="token_withdrawal.request"),
    # a matured token's holders paid and their tokens burned (workflows/redemption.py)
    "token.redeem": Operation("token.redeem", _redeem, _redeem_line, on_reject=_redeem_rejected),
}

_COLUMNS = (
    "r.id, r.kind, r.summary, r.status, r.params, q.email AS requested_by,"
    " r.requested_by AS requested_by_id, r.requested_at, d.email AS decided_by, r.decided_at,"
    " r.reason, r.result, r.executed_at, r.error"
)
_FROM = ("approval_requests r JOIN users q ON q.id = r.requested_by"
         " LEFT JOIN users d ON d.id = r.decided_by")


def request(conn: Connection, actor: Actor, kind: str, params: dict[str, Any], *,
            notify: bool = True, audited: bool = True) -> ApprovalRequest:
    """Record a severe operation for a second admin to approve (the requester must be allowed
    the operation itself, or its request_action); nothing runs yet. The admins are notified
    and the request is audited (approval.request), unless the caller's own notice and audit row
    stand for them, as `dividend submit`'s do (dividend.submit, in the same transaction)."""
    operation = _operation(kind)
    policy.require(actor, operation.request_action or operation.action)
    data = to_jsonable(params)
    summary = operation.describe(data)
    request_id = new_id()
    conn.execute(text(
        "INSERT INTO approval_requests (id, kind, summary, params, requested_by)"
        " VALUES (:id, :kind, :summary, CAST(:params AS jsonb), :by)"),
        {"id": request_id, "kind": kind, "summary": summary, "params": json.dumps(data),
         "by": actor.user_id})
    if audited:
        actor.audit(conn, "approval.request", "approval_request", request_id,
                    after={"kind": kind, "summary": summary, "params": data})
    if notify:
        notify_role(conn, "admin", "approval.pending", f"needs a second admin: {summary}"[:200],
                    "approval_request", request_id)
    return _fetch(conn, request_id)


class _Refused(Exception):
    """The operation itself refused to run (carries its AlefError)."""

    def __init__(self, error: AlefError) -> None:
        super().__init__(error.message)
        self.error = error


def approve(engine: Engine, actor: Actor, ref: str) -> ApprovalRequest:
    """Approve another admin's request and run its operation, once (see the module's notes).

    PermissionDenied for the requester; Conflict once executed or rejected. An error of the
    operation (an overdraft now) is raised after it is recorded on the request as failed."""
    policy.require(actor, "approval.approve")
    request_id = parse_id(ref, field="approval request")
    try:
        with engine.begin() as conn:
            return _approve_locked(conn, actor, request_id)
    except _Refused as refusal:
        refused = refusal.error
    with engine.begin() as conn:
        _record_failure(conn, actor, request_id, refused)
    raise type(refused)(f"{refused.message} (approval request {request_id} is now failed:"
                        " approve it again later, or reject it)", field=refused.field,
                        code=refused.code)


def approve_in(conn: Connection, actor: Actor, request_id: uuid.UUID) -> ApprovalRequest:
    """The same approval on the caller's transaction (a front end that approves the object, as
    `dividend approve` does): an error of the operation rolls the caller's transaction back and
    leaves the request as it was (not recorded as failed)."""
    policy.require(actor, "approval.approve")
    try:
        return _approve_locked(conn, actor, request_id)
    except _Refused as refusal:
        raise refusal.error from None


def _approve_locked(conn: Connection, actor: Actor, request_id: uuid.UUID) -> ApprovalRequest:
    pending = _lock_open(conn, request_id, "approve")
    if pending.requested_by_id == actor.user_id:
        raise PermissionDenied("you requested this; another admin must approve it (four-eyes)")
    operation = _operation(pending.kind)
    policy.require(actor, operation.action)
    try:
        result = operation.execute(conn, actor, pending)
    except AlefError as error:
        raise _Refused(error) from error
    now = _now(conn)
    transition(conn, "approval_requests", request_id, APPROVAL_FLOW, "execute", returning="id",
               decided_by=actor.user_id, decided_at=now, executed_at=now,
               result=json.dumps(to_jsonable(result)), error=None)
    actor.audit(conn, "approval.approve", "approval_request", request_id,
                before={"status": pending.status},
                after={"status": "executed", "kind": pending.kind, "result": result})
    return _fetch(conn, request_id)


def reject(conn: Connection, actor: Actor, ref: str, reason: str) -> ApprovalRequest:
    """Turn a pending or failed request down, with a reason; nothing runs. The requester may
    reject (withdraw) their own request."""
    policy.require(actor, "approval.reject")
    request_id = parse_id(ref, field="approval request")
    why = validation.non_empty(reason or "", field="reason", max_length=1000)
    pending = _lock_open(conn, request_id, "reject")
    rejected = close(conn, actor, pending, why)
    on_reject = _operation(pending.kind).on_reject
    if on_reject is not None:
        on_reject(conn, actor, pending, why)
    return rejected


def close(conn: Connection, actor: Actor, pending: ApprovalRequest, reason: str) -> ApprovalRequest:
    """Reject a locked open request with no policy check of its own: for `reject`, and for the
    workflow whose object the request approves when that object is withdrawn (a cancelled
    dividend), under that workflow's policy."""
    transition(conn, "approval_requests", pending.id, APPROVAL_FLOW, "reject", returning="id",
               decided_by=actor.user_id, decided_at=_now(conn), reason=reason)
    actor.audit(conn, "approval.reject", "approval_request", pending.id,
                before={"status": pending.status},
                after={"status": "rejected", "kind": pending.kind, "reason": reason})
    return _fetch(conn, pending.id)


def open_request_for(conn: Connection, kind: str, key: str, value: object) -> ApprovalRequest | None:
    """The open request of a kind whose parameter `key` is `value` (locked), if any: how a
    workflow finds the request that approves its object (a dividend's)."""
    row = conn.execute(text(
        "SELECT id FROM approval_requests WHERE kind = :kind AND params ->> :key = :value"
        " AND status = ANY(:open) ORDER BY requested_at DESC LIMIT 1"),
        {"kind": kind, "key": key, "value": str(value), "open": list(OPEN_STATUSES)}).first()
    return None if row is None else _fetch(conn, row.id, lock=True)


def list_requests(conn: Connection, actor: Actor, status: str | None = None,
                  limit: int = 200) -> list[ApprovalRequest]:
    """Requests, newest first, optionally of one status (admins)."""
    policy.require(actor, "approval.read")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)} (got {status!r})",
                           field="status")
    rows = conn.execute(text(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE (CAST(:s AS text) IS NULL OR r.status = :s)"
        " ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit"),
        {"s": status, "limit": max(1, min(int(limit), 1000))})
    return [ApprovalRequest(**row._mapping) for row in rows]


def get_request(conn: Connection, actor: Actor, ref: str) -> ApprovalRequest:
    """One request with its parameters, decision and result (admins)."""
    policy.require(actor, "approval.read")
    return _fetch(conn, parse_id(ref, field="approval request"))


def open_count(conn: Connection) -> int:
    """How many requests wait for a decision (pending, or failed and not yet rejected)."""
    return conn.execute(text("SELECT count(*) FROM approval_requests WHERE status = ANY(:s)"),
                        {"s": list(OPEN_STATUSES)}).scalar_one()


def _operation(kind: str) -> Operation:
    operation = OPERATIONS.get(kind)
    if operation is None:
        raise InvalidInput(f"unknown operation {kind!r}; one of {', '.join(OPERATIONS)}",
                           field="kind")
    return operation


def _fetch(conn: Connection, request_id: uuid.UUID, *, lock: bool = False) -> ApprovalRequest:
    suffix = " FOR UPDATE OF r" if lock else ""
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM {_FROM} WHERE r.id = :id{suffix}"),
                       {"id": request_id}).first()
    if row is None:
        raise NotFound(f"approval request not found: {request_id}")
    return ApprovalRequest(**row._mapping)


def _lock_open(conn: Connection, request_id: uuid.UUID, verb: str) -> ApprovalRequest:
    """Lock a request that may still be decided; Conflict (with what became of it) otherwise."""
    found = _fetch(conn, request_id, lock=True)
    if found.status not in OPEN_STATUSES:
        by = f" by {found.decided_by}" if found.decided_by else ""
        raise Conflict(f"cannot {verb}: approval request {request_id} is already {found.status}{by}")
    return found


def _record_failure(conn: Connection, actor: Actor, request_id: uuid.UUID, error: AlefError) -> None:
    """Note on the request that its operation refused to run (unless someone ran it since)."""
    try:
        transition(conn, "approval_requests", request_id, APPROVAL_FLOW, "fail", returning="id",
                   decided_by=actor.user_id, decided_at=_now(conn), error=error.message[:2000])
    except Conflict:
        return  # another admin executed or rejected it meanwhile
    actor.audit(conn, "approval.fail", "approval_request", request_id,
                after={"status": "failed", "error": error.message, "code": error.code})


def _now(conn: Connection) -> datetime:
    return conn.execute(text("SELECT now()")).scalar_one()
