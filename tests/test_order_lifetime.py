"""Order lifetime: GTD and DAY orders expire (by the server, or `alefctl order expire`), funds
released and pushed to the owner's stream; the dead-man's switch cancels an investor's open
orders when it lapses; both survive a restart of the server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

from platform_builders import live_token
from server_client import place, running_api
from sqlalchemy import text
from test_eligibility import holdings

from alefctl.workflows.trading.lifetime import next_session_end

D = Decimal


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def row(engine, order_id: str):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, cancel_reason, expire_at, locked_fiat,"
                                 " locked_quantity FROM orders WHERE id = :i"), {"i": order_id}).one()


def make_due(engine, order_id: str) -> None:  # noqa: ANN001
    """Time passes: the order's expire_at is behind us."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE orders SET expire_at = now() - interval '1 second'"
                          " WHERE id = :i"), {"i": order_id})


def wait_for(engine, order_id: str, status: str, seconds: float = 10.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + seconds
    while (found := row(engine, order_id)).status != status:
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    return found


def test_gtd_and_day_orders_are_checked_and_keep_their_expiry(market) -> None:  # noqa: ANN001
    gtd = place(market, "carol", "buy", 2, "9.00", time_in_force="GTD", expire_at=later(hours=1))
    assert gtd.status_code == 201, gtd.text
    assert gtd.json()["time_in_force"] == "GTD" and gtd.json()["expire_at"] is not None
    day = place(market, "carol", "buy", 2, "9.00", time_in_force="DAY")
    assert day.status_code == 201, day.text
    expected = next_session_end(dtime(21, 0), datetime.now(UTC))
    assert datetime.fromisoformat(day.json()["expire_at"]) == expected
    refusals = {
        "past": dict(time_in_force="GTD", expire_at=later(seconds=-5)),
        "too far": dict(time_in_force="GTD", expire_at=later(days=91)),
        "no date": dict(time_in_force="GTD"),
        "date without GTD": dict(expire_at=later(hours=1)),
        "naive time": dict(time_in_force="GTD", expire_at="2030-01-01T00:00:00"),
    }
    for name, extra in refusals.items():
        refused = place(market, "carol", "buy", 1, "9.00", **extra)
        assert refused.status_code == 422, (name, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    market_day = place(market, "carol", "buy", 1, None, "market", time_in_force="DAY")
    assert market_day.status_code == 422 and market_day.json()["field"] == "time_in_force"


def test_a_tokens_session_end_sets_when_its_day_orders_expire(market, cli) -> None:  # noqa: ANN001
    assert cli("token", "session-end", "DATE", "25:00").exit_code == 2
    assert cli.as_user("carol@x.io")("token", "session-end", "DATE", "06:30").exit_code == 4
    changed = cli("token", "session-end", "DATE", "06:30", "--json")
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout) == {"symbol": "DATE", "session_end": "06:30:00"}
    day = place(market, "carol", "buy", 1, "9.00", time_in_force="DAY")
    at = datetime.fromisoformat(day.json()["expire_at"])
    assert (at.hour, at.minute) == (6, 30) and timedelta(0) < at - datetime.now(UTC) <= timedelta(days=1)
    assert cli("token", "session-end", "DATE", "default").exit_code == 0
    again = place(market, "carol", "buy", 1, "9.00", time_in_force="DAY")
    assert datetime.fromisoformat(again.json()["expire_at"]).hour == 21
    with market.engine.connect() as conn:
        audited = conn.execute(text("SELECT count(*) FROM audit_logs"
                                    " WHERE action = 'token.session_end'")).scalar_one()
    assert audited == 2


def test_the_server_expires_due_orders_releases_funds_and_tells_the_owner(market) -> None:  # noqa: ANN001
    before = {name: holdings(market.engine, name) for name in ("alice", "carol")}
    sell = place(market, "alice", "sell", 3, "12.00", time_in_force="GTD", expire_at=later(hours=1))
    buy = place(market, "carol", "buy", 4, "9.00", time_in_force="DAY")
    assert holdings(market.engine, "carol")[0] == before["carol"][0] - D("36.00")
    with market.client.websocket_connect(f"/api/v1/ws?api_key={market.key('carol@x.io')}") as ws:
        ws.send_json({"op": "subscribe", "channel": "orders"})
        assert ws.receive_json()["type"] == "subscribed"
        for order in (sell, buy):
            make_due(market.engine, order.json()["id"])
        for order in (sell, buy):
            done = wait_for(market.engine, order.json()["id"], "cancelled")
            assert done.cancel_reason == "expired" and done.locked_fiat == 0
            assert done.locked_quantity == 0
        pushed = ws.receive_json()
        assert pushed["type"] == "order" and pushed["order"]["id"] == buy.json()["id"]
        assert (pushed["order"]["status"], pushed["order"]["cancel_reason"]) == ("cancelled", "expired")
    for name in ("alice", "carol"):
        assert holdings(market.engine, name) == before[name]  # to the cent, tokens unlocked
    book = market.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
    assert book["bids"] == [] and book["asks"] == []
    with market.engine.connect() as conn:
        audited = conn.execute(text(
            "SELECT a.email, l.after FROM audit_logs l JOIN users a ON a.id = l.actor_id"
            " WHERE l.object_id = :i AND l.action = 'order.cancel'"),
            {"i": buy.json()["id"]}).one()
    assert audited.email == "operator@system.alefctl" and audited.after["reason"] == "expired"


def test_expiry_survives_a_restart_and_runs_without_a_server(  # noqa: ANN001
        platform, chain_client, engine, db_url, tmp_path, cli) -> None:
    live_token(platform, chain_client, "DATE", {"carol": 10})
    with running_api(engine, db_url, tmp_path / "first", platform.admin) as api:
        survivor = place(api, "carol", "buy", 1, "9.00", time_in_force="GTD",
                         expire_at=later(hours=1))
        offline = place(api, "carol", "buy", 2, "9.00", time_in_force="GTD",
                        expire_at=later(hours=1))
    balance = holdings(engine, "carol")[0]
    make_due(engine, survivor.json()["id"])  # due while no server runs
    with running_api(engine, db_url, tmp_path / "again", platform.admin):
        assert wait_for(engine, survivor.json()["id"], "cancelled").cancel_reason == "expired"
    assert row(engine, offline.json()["id"]).status == "open"
    make_due(engine, offline.json()["id"])
    ran = cli("order", "expire", "--json")  # cron, without a server
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout) == {"by_server": False, "switches_fired": 0, "expired": 1,
                                      "switched_off": 0}
    assert row(engine, offline.json()["id"]).cancel_reason == "expired"
    assert holdings(engine, "carol")[0] == balance + D("27.00")
    again = cli("order", "expire", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["expired"] == 0


def test_order_expire_is_for_operators(cli, platform) -> None:  # noqa: ANN001
    platform.approved("dan")
    refused = cli.as_user("dan@x.io")("order", "expire")
    assert refused.exit_code == 4, refused.output


def test_the_switch_cancels_the_investors_orders_when_it_lapses(market) -> None:  # noqa: ANN001
    placed = [place(market, "carol", "buy", 1, "9.00").json()["id"],
              place(market, "carol", "buy", 2, "10.50", "stop_limit",
                    stop_price="10.50").json()["id"]]
    other = place(market, "alice", "sell", 1, "12.00").json()["id"]
    armed = market.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io",
                        json={"timeout_s": 60})
    assert armed.status_code == 200 and armed.json()["armed"] is True, armed.text
    refreshed = market.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io",
                            json={"timeout_s": 1})
    assert refreshed.json()["timeout_s"] == 1
    for order_id in placed:
        assert wait_for(market.engine, order_id, "cancelled").cancel_reason == "cancel_all_after"
    assert row(market.engine, other).status == "open"  # another investor's orders stay
    with market.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cancel_all_after")).scalar_one() == 0
    later_order = place(market, "carol", "buy", 1, "9.00").json()["id"]  # it fired once
    time.sleep(1.5)
    assert row(market.engine, later_order).status == "open"


def test_the_switch_is_disarmed_by_zero_and_bounded(market) -> None:  # noqa: ANN001
    order_id = place(market, "carol", "buy", 1, "9.00").json()["id"]
    assert market.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io",
                       json={"timeout_s": 1}).status_code == 200
    disarmed = market.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io",
                           json={"timeout_s": 0})
    assert disarmed.json() == {"armed": False, "timeout_s": 0, "deadline": None}
    time.sleep(2)
    assert row(market.engine, order_id).status == "open"
    for bad in (3601, -1, "5", 1.5):
        refused = market.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io",
                              json={"timeout_s": bad})
        assert refused.status_code == 422, (bad, refused.text)
    staff = market.call("POST", "/api/v1/orders/cancel-all-after", "admin@x.io",
                        json={"timeout_s": 5})
    assert staff.status_code == 403


def test_a_lapsed_switch_fires_after_a_restart_or_by_cron(  # noqa: ANN001
        platform, chain_client, engine, db_url, tmp_path, cli) -> None:
    live_token(platform, chain_client, "DATE", {"carol": 10})
    with running_api(engine, db_url, tmp_path / "first", platform.admin) as api:
        first = place(api, "carol", "buy", 1, "9.00").json()["id"]
        api.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io", json={"timeout_s": 3600})
    lapse(engine)
    with running_api(engine, db_url, tmp_path / "again", platform.admin) as api:
        assert wait_for(engine, first, "cancelled").cancel_reason == "cancel_all_after"
        second = place(api, "carol", "buy", 1, "9.00").json()["id"]
        api.call("POST", "/api/v1/orders/cancel-all-after", "carol@x.io", json={"timeout_s": 3600})
    lapse(engine)
    ran = cli("order", "expire", "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout) == {"by_server": False, "switches_fired": 1, "expired": 0,
                                      "switched_off": 1}
    assert row(engine, second).cancel_reason == "cancel_all_after"


def lapse(engine) -> None:  # noqa: ANN001
    """Time passes: every armed switch's deadline is behind us."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE cancel_all_after SET deadline = now() - interval '1 second'"))
