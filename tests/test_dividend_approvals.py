"""Dividend approval is four-eyes: submitting opens an approval request (kind dividend.approve),
and every door that approves a dividend decides that one request, exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from test_dividends import declared, paying_token

from alefctl.errors import Conflict, PermissionDenied
from alefctl.workflows import approvals
from alefctl.workflows.dividends.declaration import get_dividend
from alefctl.workflows.dividends.review import approval_request, approve, cancel, submit


def submitted(platform) -> tuple[str, str]:  # noqa: ANN001
    """A submitted dividend and its approval request's id."""
    paying_token(platform, {"alice": 10})
    dividend = declared(platform, per_token_usd="1")
    with platform.engine.begin() as conn:
        assert submit(conn, platform.issuer, str(dividend.id)).status == "pending_approval"
        pending = approval_request(conn, platform.admin, str(dividend.id))
    assert pending is not None
    assert (pending.kind, pending.status, pending.requested_by) == (
        "dividend.approve", "pending", platform.issuer.email)
    assert pending.params["dividend_id"] == str(dividend.id)
    return str(dividend.id), str(pending.id)


def audit_count(platform, action: str, object_id: str) -> int:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_logs WHERE action = :a"
                                 " AND object_id = :o"), {"a": action, "o": object_id}).scalar_one()


def test_approving_the_request_approves_the_dividend_once(platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    decided = approvals.approve(platform.engine, platform.admin, request_id)
    assert (decided.status, decided.decided_by) == ("executed", platform.admin.email)
    assert decided.result == {"dividend_id": ref, "symbol": "DATE", "status": "approved"}
    with platform.engine.begin() as conn:
        dividend = get_dividend(conn, platform.admin, ref)
    assert (dividend.status, dividend.approved_by) == ("approved", platform.admin.user_id)
    # the other doors now find it decided: nothing runs twice
    other = platform.person("bea", role="admin")
    with pytest.raises(Conflict, match="already executed"):
        approvals.approve(platform.engine, other, request_id)
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="approved"):
        approve(conn, other, ref)
    assert audit_count(platform, "dividend.approve", ref) == 1
    assert audit_count(platform, "approval.approve", request_id) == 1


def test_dividend_approve_decides_the_same_request(platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    with platform.engine.begin() as conn:
        assert approve(conn, platform.admin, ref).status == "approved"
        request = approvals.get_request(conn, platform.admin, request_id)
        assert (request.status, request.decided_by) == ("executed", platform.admin.email)
    with pytest.raises(Conflict, match="already executed"):
        approvals.approve(platform.engine, platform.person("bea", role="admin"), request_id)
    assert audit_count(platform, "dividend.approve", ref) == 1


def test_the_requester_or_declarer_never_approves(platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    with platform.engine.begin() as conn:  # the issuer who declared and submitted, now an admin
        conn.execute(text("UPDATE users SET role = 'admin' WHERE id = :u"),
                     {"u": platform.issuer.user_id})
    promoted = platform.actor(platform.issuer.email)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        approvals.approve(platform.engine, promoted, request_id)
    with platform.engine.begin() as conn, pytest.raises(PermissionDenied, match="declared"):
        approve(conn, promoted, ref)
    with platform.engine.begin() as conn:
        assert approvals.get_request(conn, platform.admin, request_id).status == "pending"
        assert get_dividend(conn, platform.admin, ref).status == "pending_approval"


def test_rejecting_the_request_cancels_the_dividend(platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    with platform.engine.begin() as conn:
        approvals.reject(conn, platform.admin, request_id, "per-token amount is wrong")
        dividend = get_dividend(conn, platform.admin, ref)
    assert dividend.status == "cancelled"
    assert dividend.cancel_reason == "approval rejected: per-token amount is wrong"
    with platform.engine.begin() as conn, pytest.raises(Conflict):
        approve(conn, platform.admin, ref)


def test_cancelling_the_dividend_rejects_its_request(platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    with platform.engine.begin() as conn:
        cancel(conn, platform.issuer, ref, "wrong record date")  # the requester withdraws it
        request = approvals.get_request(conn, platform.admin, request_id)
    assert (request.status, request.reason, request.decided_by) == (
        "rejected", "wrong record date", platform.issuer.email)
    with pytest.raises(Conflict, match="already rejected"):
        approvals.approve(platform.engine, platform.admin, request_id)


def test_commands_and_http_routes_are_one_door(cli, api, platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    listed = cli.json("approvals", "list", "--status", "pending")
    assert [(r["id"], r["kind"]) for r in listed] == [(request_id, "dividend.approve")]
    answer = api.call("POST", f"/api/v1/admin/approvals/{request_id}/approve", "admin@x.io")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "executed"
    again = api.call("POST", f"/api/v1/admin/dividends/{ref}/approve", "admin@x.io")
    assert again.status_code == 409, again.text
    refused = cli("dividend", "approve", ref)
    assert refused.exit_code == 5 and "approved" in refused.stderr
    assert cli.json("dividend", "show", ref)["status"] == "approved"


def test_the_dividend_route_and_the_approvals_command(cli, api, platform) -> None:  # noqa: ANN001
    ref, request_id = submitted(platform)
    answer = api.call("POST", f"/api/v1/admin/dividends/{ref}/approve", "admin@x.io")
    assert answer.status_code == 200 and answer.json()["status"] == "approved", answer.text
    refused = cli("approvals", "approve", request_id)
    assert refused.exit_code == 5 and "already executed" in refused.stderr


def test_two_doors_at_once_approve_once(platform) -> None:  # noqa: ANN001
    import threading

    ref, request_id = submitted(platform)
    bea = platform.person("bea", role="admin")
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def by_request() -> None:
        start.wait()
        try:
            approvals.approve(platform.engine, platform.admin, request_id)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")

    def by_dividend() -> None:
        start.wait()
        try:
            with platform.engine.begin() as conn:
                approve(conn, bea, ref)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=by_request), threading.Thread(target=by_dividend)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["approved", "conflict"]
    assert audit_count(platform, "dividend.approve", ref) == 1
    assert audit_count(platform, "approval.approve", request_id) == 1
