"""Four-eyes: a deposit or withdrawal at or above approvals.money_threshold_usd waits for a second
admin, who runs it exactly once; the requester can never approve it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from alefctl.errors import Conflict, InsufficientFunds, PermissionDenied
from alefctl.workflows import approvals
from alefctl.workflows.actor import Actor, resolve_actor

INVESTOR = "w@x.io"
THRESHOLD = Decimal("10000")


@pytest.fixture
def db(db_url: str):  # noqa: ANN201
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def admins(cli) -> dict:  # noqa: ANN001
    """The first admin (admin@localhost, cli) requests; ben and cy are other admins."""
    assert cli("user", "create", "--email", INVESTOR, "--name", "W").exit_code == 0
    for name in ("ben", "cy"):
        cli.json("user", "create", "--email", f"{name}@x.io", "--name", name.title(), "--role", "admin")
    return {"ben": cli.as_user("ben@x.io"), "cy": cli.as_user("cy@x.io")}


def actor(engine: Engine, email: str) -> Actor:
    with engine.begin() as conn:
        return resolve_actor(conn, email, "cli")


def balance(engine: Engine, email: str = INVESTOR) -> Decimal:
    with engine.connect() as conn:
        return conn.execute(text("SELECT fiat_balance FROM users WHERE email = :e"),
                            {"e": email}).scalar_one()


def ledger(engine: Engine, request_id: str) -> list[Decimal]:
    """The amounts of the ledger rows an approval request wrote."""
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT amount FROM wallet_transactions WHERE reference_type = 'approval_request'"
            " AND reference_id = :r"), {"r": request_id}).scalars())


def status(engine: Engine, request_id: str) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT status FROM approval_requests WHERE id = :r"),
                            {"r": request_id}).scalar_one()


def request_deposit(cli, amount: str = "12000") -> str:  # noqa: ANN001
    pending = cli.json("wallet", "deposit", "--user", INVESTOR, "--amount", amount)
    assert pending["status"] == "pending" and pending["kind"] == "wallet.deposit"
    return pending["id"]


def test_deposit_at_the_threshold_is_a_request_and_moves_nothing(cli, admins, db) -> None:  # noqa: ANN001
    result = cli("wallet", "deposit", "--user", INVESTOR, "--amount", "10000", "--reference", "wire 9")
    assert result.exit_code == 0, result.stderr
    request_id = result.stdout.strip()
    assert f"needs a second admin: alefctl approvals approve {request_id}" in result.stderr
    pending = cli.json("wallet", "deposit", "--user", INVESTOR, "--amount", "25000.50")
    assert pending["params"] == {"user_id": pending["params"]["user_id"], "email": INVESTOR,
                                 "amount": "25000.50", "currency": "USD", "reference": None}
    assert pending["requested_by"] == "admin@localhost" and pending["decided_by"] is None
    assert balance(db) == 0 and ledger(db, request_id) == []
    below = cli.json("wallet", "deposit", "--user", INVESTOR, "--amount", "9999.99")
    assert below["balance_after"] == "9999.99"  # below the threshold: at once, as before
    listed = cli.json("approvals", "list", "--status", "pending")
    assert [r["summary"] for r in listed] == ["deposit 25000.50 USD to w@x.io",
                                              "deposit 10000.00 USD to w@x.io (wire 9)"]
    shown = admins["ben"].json("approvals", "show", request_id)
    assert shown["status"] == "pending" and shown["params"]["amount"] == "10000.00"
    assert cli("approvals", "show", request_id).exit_code == 0  # the table rendering


def test_threshold_is_a_setting(cli, admins, db) -> None:  # noqa: ANN001
    moved = cli.json("wallet", "deposit", "--user", INVESTOR, "--amount", "20000",
                     ALEF_APPROVALS_MONEY_THRESHOLD_USD="50000")
    assert moved["balance_after"] == "20000.00"
    pending = cli.json("wallet", "withdraw", "--user", INVESTOR, "--amount", "100", "--yes",
                       ALEF_APPROVALS_MONEY_THRESHOLD_USD="100")
    assert pending["status"] == "pending" and balance(db) == Decimal("20000.00")


def test_self_approval_is_refused_and_another_admin_runs_it_once(cli, admins, db) -> None:  # noqa: ANN001
    request_id = request_deposit(cli)
    own = cli("approvals", "approve", request_id)
    assert own.exit_code == 4 and "another admin must approve" in own.stderr
    assert status(db, request_id) == "pending" and balance(db) == 0
    done = admins["ben"].json("approvals", "approve", request_id)
    assert done["status"] == "executed" and done["decided_by"] == "ben@x.io"
    assert done["result"]["balance_after"] == "12000.00" and done["result"]["type"] == "deposit"
    again = admins["ben"]("approvals", "approve", request_id)
    assert again.exit_code == 5 and "already executed by ben@x.io" in again.stderr
    assert admins["cy"]("approvals", "approve", request_id).exit_code == 5
    assert admins["cy"]("approvals", "reject", request_id, "--reason", "late").exit_code == 5
    assert balance(db) == Decimal("12000.00") and ledger(db, request_id) == [Decimal("12000.00")]
    with db.connect() as conn:
        audits = conn.execute(text(
            "SELECT u.email, a.action FROM audit_logs a JOIN users u ON u.id = a.actor_id"
            " WHERE a.action LIKE 'approval.%' OR a.action LIKE 'wallet.%' ORDER BY a.created_at"
        )).all()
    assert sorted(tuple(a) for a in audits) == [("admin@localhost", "approval.request"),
                                                ("ben@x.io", "approval.approve"),
                                                ("ben@x.io", "wallet.deposit")]
    check = cli("check")
    assert check.exit_code == 0, check.stdout + check.stderr


def test_reject_needs_a_reason_and_moves_nothing(cli, admins, db) -> None:  # noqa: ANN001
    request_id = request_deposit(cli)
    no_reason = admins["ben"]("approvals", "reject", request_id, "--reason", "  ")
    assert no_reason.exit_code == 2
    rejected = admins["ben"].json("approvals", "reject", request_id, "--reason", "no wire arrived")
    assert rejected["status"] == "rejected" and rejected["reason"] == "no wire arrived"
    assert admins["cy"]("approvals", "approve", request_id).exit_code == 5
    assert balance(db) == 0 and ledger(db, request_id) == []
    withdrawn = request_deposit(cli)  # the requester may withdraw their own request
    assert cli.json("approvals", "reject", withdrawn, "--reason", "typo")["status"] == "rejected"
    assert [r["id"] for r in cli.json("approvals", "list", "--status", "rejected")] == [
        withdrawn, request_id]
    assert cli("approvals", "list", "--status", "nope").exit_code == 2
    assert cli("approvals", "show", "0190d2a4-0000-7000-8000-000000000000").exit_code == 3
    assert cli("approvals", "show", "nope").exit_code == 2
    assert cli("check").exit_code == 0


def test_a_withdrawal_is_checked_again_when_executed(cli, admins, db) -> None:  # noqa: ANN001
    admins["ben"].json("approvals", "approve", request_deposit(cli, "20000"))
    too_much = cli("wallet", "withdraw", "--user", INVESTOR, "--amount", "20000.01", "--yes")
    assert too_much.exit_code == 5  # refused when asked: the balance does not cover it
    request_id = cli.json("wallet", "withdraw", "--user", INVESTOR, "--amount", "15000", "--yes")["id"]
    cli.json("wallet", "withdraw", "--user", INVESTOR, "--amount", "9000", "--yes")  # meanwhile
    refused = admins["ben"]("approvals", "approve", request_id)
    assert refused.exit_code == 5
    assert "11,000.00 USD available" in refused.stderr and "now failed" in refused.stderr
    failed = cli.json("approvals", "show", request_id)
    assert failed["status"] == "failed" and "cannot withdraw 15,000.00" in failed["error"]
    assert balance(db) == Decimal("11000.00") and ledger(db, request_id) == []
    assert cli("approvals", "approve", request_id).exit_code == 4  # still not the requester's
    cli.json("wallet", "deposit", "--user", INVESTOR, "--amount", "5000")
    done = admins["cy"].json("approvals", "approve", request_id)  # a failed request runs later
    assert done["status"] == "executed" and done["error"] is None
    assert balance(db) == Decimal("1000.00") and ledger(db, request_id) == [Decimal("-15000.00")]
    assert cli("check").exit_code == 0


def test_an_error_between_approve_and_commit_moves_nothing_and_a_retry_runs_once(
        cli, admins, db, monkeypatch) -> None:  # noqa: ANN001
    request_id = request_deposit(cli)
    real = approvals.OPERATIONS["wallet.deposit"]

    def crash_after_moving(conn, actor, request):  # noqa: ANN001, ANN202
        real.execute(conn, actor, request)  # the money moved in this transaction...
        raise RuntimeError("power cut")  # ...and the process dies before COMMIT

    monkeypatch.setitem(approvals.OPERATIONS, "wallet.deposit",
                        approvals.Operation(real.action, crash_after_moving, real.describe))
    with pytest.raises(RuntimeError):
        approvals.approve(db, actor(db, "ben@x.io"), request_id)
    assert status(db, request_id) == "pending" and balance(db) == 0 and ledger(db, request_id) == []
    monkeypatch.setitem(approvals.OPERATIONS, "wallet.deposit", real)
    done = approvals.approve(db, actor(db, "ben@x.io"), request_id)
    assert done.status == "executed" and balance(db) == Decimal("12000.00")
    assert ledger(db, request_id) == [Decimal("12000.00")]
    assert cli("check").exit_code == 0


CRASHING_APPROVER = """
import os, sys
from sqlalchemy import create_engine
from alefctl.workflows import approvals
from alefctl.workflows.actor import resolve_actor

real = approvals.OPERATIONS["wallet.deposit"]

def die_after_moving(conn, actor, request):
    real.execute(conn, actor, request)
    os._exit(9)  # killed: no rollback, no cleanup, the connection just drops

approvals.OPERATIONS["wallet.deposit"] = approvals.Operation(real.action, die_after_moving,
                                                             real.describe)
engine = create_engine(sys.argv[1])
with engine.begin() as conn:
    ben = resolve_actor(conn, "ben@x.io", "cli")
approvals.approve(engine, ben, sys.argv[2])
"""


def test_a_process_killed_between_approve_and_commit_loses_nothing(cli, admins, db, db_url) -> None:  # noqa: ANN001
    request_id = request_deposit(cli)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_APPROVER, db_url, request_id],
                             capture_output=True, text=True, timeout=120,
                             cwd=Path(__file__).resolve().parents[1], env=dict(os.environ))
    assert crashed.returncode == 9, crashed.stderr
    assert status(db, request_id) == "pending" and balance(db) == 0 and ledger(db, request_id) == []
    done = admins["cy"].json("approvals", "approve", request_id)  # the request was not lost
    assert done["status"] == "executed" and balance(db) == Decimal("12000.00")
    assert ledger(db, request_id) == [Decimal("12000.00")]


def test_admins_approving_at_once_run_it_once(cli, admins, db, monkeypatch) -> None:  # noqa: ANN001
    for name in ("dan", "eve"):
        cli.json("user", "create", "--email", f"{name}@x.io", "--name", name, "--role", "admin")
    request_id = request_deposit(cli)
    real = approvals.OPERATIONS["wallet.deposit"]

    def slow(conn, actor, request):  # noqa: ANN001, ANN202
        result = real.execute(conn, actor, request)
        time.sleep(0.3)  # hold the request's row while the others arrive
        return result

    monkeypatch.setitem(approvals.OPERATIONS, "wallet.deposit",
                        approvals.Operation(real.action, slow, real.describe))
    approvers = [actor(db, f"{name}@x.io") for name in ("ben", "cy", "dan", "eve")]
    start = threading.Barrier(len(approvers))
    outcomes: list[object] = []

    def approve(who: Actor) -> None:
        start.wait()
        try:
            outcomes.append(approvals.approve(db, who, request_id).status)
        except Exception as error:  # noqa: BLE001 - collected and checked below
            outcomes.append(type(error))

    threads = [threading.Thread(target=approve, args=(who,)) for who in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes)) == sorted(["executed", *[str(Conflict)] * 3])
    assert balance(db) == Decimal("12000.00") and ledger(db, request_id) == [Decimal("12000.00")]
    assert cli("check").exit_code == 0


def test_workflow_rules(admins, db) -> None:  # noqa: ANN001
    from alefctl.workflows.wallet import submit_deposit, submit_withdrawal

    requester, ben = actor(db, "admin@localhost"), actor(db, "ben@x.io")
    investor = actor(db, INVESTOR)
    with db.begin() as conn:
        request = submit_deposit(conn, requester, INVESTOR, "10000", threshold=THRESHOLD)
    with pytest.raises(PermissionDenied):
        approvals.approve(db, requester, str(request.id))
    with pytest.raises(PermissionDenied):  # only admins approve
        approvals.approve(db, investor, str(request.id))
    with pytest.raises(PermissionDenied), db.begin() as conn:
        submit_deposit(conn, investor, INVESTOR, "10000", threshold=THRESHOLD)
    with pytest.raises(InsufficientFunds), db.begin() as conn:  # refused when asked, too
        submit_withdrawal(conn, requester, INVESTOR, "10000", threshold=THRESHOLD)
    # the database itself refuses a decision by the requester (four eyes)
    with pytest.raises(Exception, match="approval_requests_four_eyes"), db.begin() as conn:
        conn.execute(text("UPDATE approval_requests SET status = 'executed', decided_by ="
                          " requested_by, decided_at = now(), executed_at = now(), result = '{}'"))
    assert approvals.approve(db, ben, str(request.id)).status == "executed"


def test_admin_http_routes(api, platform) -> None:  # noqa: ANN001
    from alefctl.workflows.wallet import submit_deposit

    platform.person("ben", role="admin")
    platform.person("inv")
    with platform.engine.begin() as conn:
        first = submit_deposit(conn, platform.admin, "inv@x.io", "10000", threshold=THRESHOLD)
        second = submit_deposit(conn, platform.admin, "inv@x.io", "30000", "wire",
                                threshold=THRESHOLD)
    base = "/api/v1/admin/approvals"
    listed = api.call("GET", f"{base}?status=pending", "ben@x.io")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()] == [str(second.id), str(first.id)]
    assert api.call("GET", f"{base}/{first.id}", "ben@x.io").json()["params"]["amount"] == "10000.00"
    own = api.call("POST", f"{base}/{first.id}/approve", "admin@x.io")
    assert own.status_code == 403
    assert own.headers["content-type"].startswith("application/problem+json")
    assert api.call("POST", f"{base}/{first.id}/approve", "inv@x.io").status_code == 403
    assert api.call("GET", base, "inv@x.io").status_code == 403
    done = api.call("POST", f"{base}/{first.id}/approve", "ben@x.io")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "executed" and done.json()["result"]["amount"] == "10000.00"
    assert api.call("POST", f"{base}/{first.id}/approve", "ben@x.io").status_code == 409
    assert balance(platform.engine, "inv@x.io") == Decimal("10000.00")
    assert api.call("POST", f"{base}/{second.id}/reject", "ben@x.io", json={}).status_code == 422
    rejected = api.call("POST", f"{base}/{second.id}/reject", "ben@x.io", json={"reason": "dup"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert api.call("POST", f"{base}/{second.id}/approve", "ben@x.io").status_code == 409
    assert api.call("GET", f"{base}/0190d2a4-0000-7000-8000-000000000000", "ben@x.io").status_code == 404
    assert api.call("GET", f"{base}?status=nope", "ben@x.io").status_code == 422
    assert balance(platform.engine, "inv@x.io") == Decimal("10000.00")
