"""Record dates mean what they say: dividend holders are those at the record date, from the
position history; a record date to come is snapshotted when it passes; the treasury's own
holding earns nothing unless settings say so; failed payments keep their reason and are retried
or re-routed."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from register_builders import db_now, trading_token
from settlement_helpers import trade
from sqlalchemy import text

from alefctl.errors import Conflict, InvalidInput
from alefctl.settings import DividendSettings, TradingSettings
from alefctl.workflows import approvals
from alefctl.workflows.dividends.declaration import NewDividend, declare, list_payments
from alefctl.workflows.dividends.distribution import distribute
from alefctl.workflows.dividends.review import approve, submit
from alefctl.workflows.eligibility import deactivate_user
from alefctl.workflows.invariants import run_checks
from alefctl.workflows.users import set_activation

FEE = TradingSettings().dividend_fee_pct
NO_GRACE = timedelta(0)


def declared(platform, record_date=None, treasury_earns=False, **amounts):  # noqa: ANN001, ANN003, ANN201
    amounts = amounts or {"per_token_usd": "1.00"}
    dividend_type = "token" if "per_token_qty" in amounts else "fiat"
    with platform.engine.begin() as conn:
        return declare(conn, platform.issuer, NewDividend("DATE", dividend_type,
                                                          record_date=record_date, **amounts),
                       fee_pct=FEE, treasury_earns=treasury_earns, snapshot_grace=NO_GRACE)


def paid_holders(platform, dividend) -> dict[str, int]:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return {p.email: p.token_balance for p in list_payments(conn, platform.admin, str(dividend.id))}


def approved(platform, dividend) -> None:  # noqa: ANN001
    with platform.engine.begin() as conn:
        submit(conn, platform.issuer, str(dividend.id))
    second = platform.approved("second", role="admin") if not _exists(platform, "second") \
        else platform.actor("second@x.io")
    with platform.engine.begin() as conn:
        approve(conn, second, str(dividend.id))


def _exists(platform, name: str) -> bool:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM users WHERE email = :e"),
                            {"e": f"{name}@x.io"}).scalar_one() > 0


def failures(platform) -> set[str]:  # noqa: ANN001
    with platform.engine.begin() as conn:
        return {r.name for r in run_checks(conn, platform.admin) if not r.ok}


def test_holders_at_a_past_record_date_not_today(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100, "bob": 100}, traders=("carol",))
    record_date = db_now(platform)
    trade(platform, "alice", "carol", "DATE", 30)  # carol bought after: nothing; alice sold: paid
    dividend = declared(platform, record_date)
    assert dividend.snapshot_taken_at is not None and dividend.record_date == record_date
    assert paid_holders(platform, dividend) == {"alice@x.io": 100, "bob@x.io": 100}
    assert (dividend.holder_count, dividend.total_held, dividend.total_gross_usd) == (
        2, 200, Decimal("200.00"))


def test_a_record_date_to_come_is_snapshotted_when_it_passes(platform, cli) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100}, traders=("carol", "dave"))
    record_date = db_now(platform) + timedelta(seconds=3)
    dividend = declared(platform, record_date)
    assert dividend.snapshot_taken_at is None and dividend.holder_count == 0
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="has not passed"):
        submit(conn, platform.issuer, str(dividend.id))
    assert cli.json("dividend", "snapshot-due")["taken"] == []  # not yet
    trade(platform, "alice", "carol", "DATE", 40)  # before the record date: carol is paid
    while db_now(platform) <= record_date:
        time.sleep(0.2)
    trade(platform, "alice", "dave", "DATE", 10)  # after it: dave is not, alice is on 60
    taken = cli.json("dividend", "snapshot-due", ALEF_DIVIDENDS_SNAPSHOT_GRACE_S="0")["taken"]
    assert [(t["dividend_id"], t["holder_count"]) for t in taken] == [(str(dividend.id), 2)]
    assert paid_holders(platform, dividend) == {"alice@x.io": 60, "carol@x.io": 40}
    assert cli.json("dividend", "snapshot-due", ALEF_DIVIDENDS_SNAPSHOT_GRACE_S="0")["taken"] == []
    shown = cli.json("dividend", "show", str(dividend.id))
    assert shown["snapshot_taken_at"] is not None and shown["total_held"] == 100
    with platform.engine.begin() as conn:
        submit(conn, platform.issuer, str(dividend.id))


def test_the_server_takes_due_snapshots(platform, engine, db_url, tmp_path,  # noqa: ANN001
                                        monkeypatch) -> None:  # noqa: ANN001
    from server_client import running_api

    trading_token(platform, {"alice": 100})
    dividend = declared(platform, db_now(platform) + timedelta(seconds=1))
    monkeypatch.setenv("ALEF_DIVIDENDS_SNAPSHOT_INTERVAL_S", "0.2")
    monkeypatch.setenv("ALEF_DIVIDENDS_SNAPSHOT_GRACE_S", "0")
    with running_api(engine, db_url, tmp_path / "home", platform.admin):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not paid_holders(platform, dividend):
            time.sleep(0.3)
    assert paid_holders(platform, dividend) == {"alice@x.io": 100}


def test_the_treasury_earns_only_when_settings_say_so(platform) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100}, treasury=50)
    assert DividendSettings().treasury_earns is False
    without = declared(platform)
    assert without.treasury_included is False
    assert paid_holders(platform, without) == {"alice@x.io": 100}
    with_treasury = declared(platform, treasury_earns=True)
    assert with_treasury.treasury_included is True
    assert paid_holders(platform, with_treasury) == {"alice@x.io": 100,
                                                     "treasury@system.alefctl": 50}


def test_no_holders_at_the_record_date_is_refused(platform) -> None:  # noqa: ANN001
    before = db_now(platform)
    trading_token(platform, {"alice": 100})
    with pytest.raises(Conflict, match="no holders"):
        declared(platform, before)
    with pytest.raises(InvalidInput, match="too small"):
        declared(platform, per_token_usd="0.000001")


def test_a_deactivated_holder_fails_with_the_reason_then_is_retried(platform, cli) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100, "bob": 50}, traders=("carol",))
    dividend = declared(platform)
    approved(platform, dividend)
    deactivate_user(platform.engine, platform.admin, "bob@x.io")
    paid = distribute(platform.engine, platform.admin, str(dividend.id))
    assert (paid.status, paid.paid_count, paid.failed_count, paid.pending_count) == (
        "distributed", 1, 1, 0)
    with platform.engine.begin() as conn:
        bob = [p for p in list_payments(conn, platform.admin, str(dividend.id)) if p.email == "bob@x.io"]
    assert (bob[0].status, bob[0].failure_reason) == ("failed", "account deactivated")
    assert not failures(platform)  # bob's net is owed, not lost: dollars still conserved
    # still deactivated: the retry fails again, with its reason, and exits 1
    again = cli("dividend", "retry", str(dividend.id))
    assert again.exit_code == 1, again.output
    with platform.engine.begin() as conn:
        set_activation(conn, platform.admin, "bob@x.io", True)
    before = _fiat(platform, "bob")
    done = cli.json("dividend", "retry", str(dividend.id))
    assert (done["retried"], done["paid"], done["failed"]) == (1, 1, 0)
    assert _fiat(platform, "bob") == before + Decimal("49.50")  # 50.00 less the 1% fee
    assert done["dividend"]["failed_count"] == 0 and done["dividend"]["paid_count"] == 2
    assert not failures(platform)
    assert cli.json("dividend", "retry", str(dividend.id))["retried"] == 0  # nothing left


def test_a_failed_payment_is_rerouted_by_two_admins(platform, cli) -> None:  # noqa: ANN001
    trading_token(platform, {"alice": 100, "bob": 50}, traders=("carol",))
    dividend = declared(platform)
    approved(platform, dividend)
    deactivate_user(platform.engine, platform.admin, "bob@x.io")
    distribute(platform.engine, platform.admin, str(dividend.id))
    with platform.engine.begin() as conn:
        failed = list_payments(conn, platform.admin, str(dividend.id), status="failed")
    reroute = ("dividend", "retry", str(dividend.id), "--payment", str(failed[0].id), "--to")
    assert cli("dividend", "retry", str(dividend.id), "--to", "carol@x.io").exit_code == 2
    assert cli(*reroute, "bob@x.io").exit_code == 5  # the holder's own deactivated account
    before = _fiat(platform, "carol")
    request = cli.json(*reroute, "carol@x.io")
    assert request["kind"] == "dividend.reroute" and request["status"] == "pending"
    assert _fiat(platform, "carol") == before  # nothing moves on one admin's word
    assert cli("approvals", "approve", request["id"]).exit_code == 4  # not the requester
    second = platform.actor("second@x.io")  # the admin who approved the dividend
    with platform.engine.begin() as conn:
        approvals.approve_in(conn, second, uuid.UUID(request["id"]))
    assert _fiat(platform, "carol") == before + Decimal("49.50")
    payment = cli.json("dividend", "show", str(dividend.id), "--payments")["payments"]
    assert {(p["email"], p["status"], p["paid_to_email"]) for p in payment} == {
        ("alice@x.io", "paid", None), ("bob@x.io", "paid", "carol@x.io")}
    with platform.engine.begin() as conn, pytest.raises(Conflict, match="not failed"):
        approvals.request(conn, platform.admin, "dividend.reroute", request["params"])
        approvals.approve_in(conn, second, approvals.list_requests(conn, second, "pending")[0].id)
    assert not failures(platform)


def _fiat(platform, name: str) -> Decimal:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return conn.execute(text("SELECT fiat_balance FROM users WHERE email = :e"),
                            {"e": f"{name}@x.io"}).scalar_one()
