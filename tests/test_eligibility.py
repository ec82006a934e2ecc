"""An investor who may no longer trade (deactivated, KYC revoked, FATCA-blocked) keeps no open
order or pending stop: the change cancels them, funds released, with a server running and
without one; a starting server cancels what such users left open. And DELETE /api/v1/orders."""

from __future__ import annotations

import time
from decimal import Decimal

from platform_builders import live_token
from server_client import place as order
from server_client import running_api
from sqlalchemy import text

from alefctl.workflows.eligibility import deactivate_user, revoke_kyc, set_fatca_status

D = Decimal


def holdings(engine, name: str) -> tuple[Decimal, int]:  # noqa: ANN001
    """(fiat balance, DATE tokens locked) of name@x.io."""
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT u.fiat_balance, coalesce((SELECT w.locked_balance FROM wallets w JOIN tokens t"
            " ON t.id = w.token_id WHERE w.user_id = u.id AND t.symbol = 'DATE'), 0) AS locked"
            " FROM users u WHERE u.email = :e"), {"e": f"{name}@x.io"}).one()
    return row.fiat_balance, row.locked


def open_orders(engine, name: str) -> list[str]:  # noqa: ANN001
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT o.status FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = :e"
            " AND o.status IN ('open', 'partially_filled', 'pending_stop') ORDER BY o.created_at"),
            {"e": f"{name}@x.io"}).scalars())


def cancel_audits(engine, name: str) -> list[tuple[str, str]]:  # noqa: ANN001
    """(actor, action) of the audit rows about name's orders."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT a.email, l.action FROM audit_logs l JOIN users a ON a.id = l.actor_id"
            " JOIN orders o ON o.id = l.object_id JOIN users u ON u.id = o.user_id"
            " WHERE u.email = :e ORDER BY l.created_at"), {"e": f"{name}@x.io"})]


def test_each_change_cancels_the_investors_orders_through_the_running_server(  # noqa: ANN001
        market, platform) -> None:
    assert order(market, "alice", "sell", 1, "10.00").status_code == 201  # a last price
    assert order(market, "bob", "buy", 1, "10.00").json()["status"] == "filled"
    start = {name: holdings(market.engine, name) for name in ("alice", "bob", "carol")}
    assert order(market, "carol", "buy", 10, "9.00").status_code == 201
    stop = order(market, "carol", "buy", 2, "10.50", "stop_limit", stop_price="10.50")
    assert stop.json()["status"] == "pending_stop", stop.text
    assert order(market, "alice", "sell", 5, "11.00").status_code == 201
    assert order(market, "alice", "sell", 5, None, "stop_loss", stop_price="9.50").status_code == 201
    assert order(market, "bob", "buy", 2, "9.50").status_code == 201
    assert holdings(market.engine, "carol") != start["carol"]

    done = deactivate_user(platform.engine, platform.admin, "carol@x.io")
    assert done.changed and sorted(o["status"] for o in done.cancelled_orders) == ["cancelled"] * 2
    revoked = revoke_kyc(platform.engine, platform.reviewer, "alice@x.io", "document expired")
    assert revoked.user.kyc_status == "rejected" and len(revoked.cancelled_orders) == 2
    blocked = set_fatca_status(platform.engine, platform.admin, "bob@x.io", "blocked", "US person")
    assert blocked.user.fatca_status == "blocked" and len(blocked.cancelled_orders) == 1

    for name in ("alice", "bob", "carol"):
        assert open_orders(market.engine, name) == []
        assert holdings(market.engine, name) == start[name]  # to the cent, tokens unlocked
    book = market.call("GET", "/api/v1/orderbook/DATE", "admin@x.io")
    assert book.json()["bids"] == [] and book.json()["asks"] == []  # the server's books too
    assert cancel_audits(market.engine, "carol") == [("operator@system.alefctl", "order.cancel")] * 2
    again = set_fatca_status(platform.engine, platform.admin, "bob@x.io", "blocked", "US person")
    assert not again.changed and again.cancelled_orders == []
    refused = order(market, "bob", "buy", 1, "9.00")
    assert refused.status_code == 403 and "FATCA" in refused.text


def _placed_without_a_server(platform, who: str, *requests) -> None:  # noqa: ANN001
    """Orders placed by a server that has since stopped: the order group run directly."""
    from alefctl.db.system_users import treasury_id
    from alefctl.workflows.orders import OrderRequest
    from alefctl.workflows.trading.books import Books
    from alefctl.workflows.trading.control import CANCEL_ONLY
    from alefctl.workflows.trading.funds import NotionalLimits
    from alefctl.workflows.trading.group import OrderGroup, PlaceOrder
    from alefctl.workflows.trading.state import MonotonicClock

    assert CANCEL_ONLY.retail == 0
    limits = NotionalLimits(D(500), D(5000), D(50000))
    actor = platform.actor(f"{who}@x.io")
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(), limits, treasury_id(conn), MonotonicClock())
        for request in requests:
            placed = group.run(PlaceOrder(actor, OrderRequest("DATE", *request)))
            assert isinstance(placed, dict), placed
        group.flush()


def test_each_change_cancels_directly_without_a_server(platform, chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    platform.approved("carol", fiat="5000", wallet="0x" + "c" * 40)
    start = {name: holdings(platform.engine, name) for name in ("alice", "bob", "carol")}
    _placed_without_a_server(platform, "alice", ("sell", "limit", 7, D("12.00")))
    _placed_without_a_server(platform, "bob", ("sell", "stop_loss", 3, None, D("9.00")))
    _placed_without_a_server(platform, "carol", ("buy", "limit", 4, D("9.00")))
    assert holdings(platform.engine, "carol")[0] == start["carol"][0] - D("36.00")

    assert len(set_fatca_status(platform.engine, platform.admin, "alice@x.io", "blocked",
                                "US person").cancelled_orders) == 1
    assert len(revoke_kyc(platform.engine, platform.reviewer, "bob@x.io",
                          "sanctions hit").cancelled_orders) == 1
    assert len(deactivate_user(platform.engine, platform.admin, "carol@x.io").cancelled_orders) == 1
    for name in ("alice", "bob", "carol"):
        assert open_orders(platform.engine, name) == [] and holdings(platform.engine, name) == start[name]
    assert cancel_audits(platform.engine, "bob") == [("operator@system.alefctl", "order.cancel")]
    with platform.engine.connect() as conn:
        audited = conn.execute(text(
            "SELECT action, after ->> 'reason' FROM audit_logs WHERE action IN"
            " ('kyc.revoke', 'user.fatca', 'user.deactivate') ORDER BY created_at")).all()
    assert [tuple(r) for r in audited] == [("user.fatca", "US person"),
                                           ("kyc.revoke", "sanctions hit"),
                                           ("user.deactivate", None)]


def test_a_starting_server_cancels_what_ineligible_users_left_open(  # noqa: ANN001
        platform, chain_client, db_url, tmp_path) -> None:
    live_token(platform, chain_client, "DATE", {"alice": 100})
    _placed_without_a_server(platform, "alice", ("sell", "limit", 7, D("12.00")),
                             ("sell", "stop_loss", 3, None, D("9.00")))
    with platform.engine.begin() as conn:  # as if the cancel of the change never ran
        conn.execute(text("UPDATE users SET is_activated = false WHERE email = 'alice@x.io'"))
    with running_api(platform.engine, db_url, tmp_path / "home", platform.admin):
        deadline = time.monotonic() + 5
        while open_orders(platform.engine, "alice") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert open_orders(platform.engine, "alice") == [] and holdings(platform.engine, "alice")[1] == 0


def test_the_commands_report_what_they_cancelled(cli, platform, chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 100})
    _placed_without_a_server(platform, "alice", ("sell", "limit", 7, D("12.00")))
    revoked = cli.json("kyc", "revoke", "alice@x.io", "--reason", "expired passport")
    assert revoked["kyc_status"] == "rejected" and len(revoked["cancelled_orders"]) == 1
    assert cli("kyc", "revoke", "alice@x.io", "--reason", "again").exit_code == 0  # already done
    fatca = cli("user", "fatca", "alice@x.io", "--status", "maybe", "--reason", "x")
    assert fatca.exit_code == 2 and "FATCA status" in fatca.stderr
    assert cli.json("user", "fatca", "alice@x.io", "--status", "blocked",
                    "--reason", "US person")["fatca_status"] == "blocked"
    deactivated = cli("user", "deactivate", "alice@x.io", "--yes")
    assert deactivated.exit_code == 0 and "deactivated" in deactivated.stderr
    refused = cli.as_user("alice@x.io")("kyc", "revoke", "bob@x.io", "--reason", "x")
    assert refused.exit_code == 4


def test_delete_orders_cancels_all_of_the_callers_open_orders(market) -> None:  # noqa: ANN001
    start = holdings(market.engine, "carol")
    mine = [order(market, "carol", "buy", 2, "9.00").json()["id"],
            order(market, "carol", "buy", 1, "8.00").json()["id"]]
    assert order(market, "alice", "sell", 3, "12.00").status_code == 201
    unknown = market.call("DELETE", "/api/v1/orders?token_id=NOPE", "carol@x.io")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith(
        "application/problem+json")
    answer = market.call("DELETE", "/api/v1/orders?token_id=DATE", "carol@x.io")
    assert answer.status_code == 200, answer.text
    cancelled = answer.json()["cancelled"]
    assert sorted(o["id"] for o in cancelled) == sorted(mine)
    assert {o["status"] for o in cancelled} == {"cancelled"}
    assert holdings(market.engine, "carol") == start
    assert open_orders(market.engine, "alice") == ["open"]  # another investor's order stays
    assert market.call("DELETE", "/api/v1/orders", "carol@x.io").json() == {"cancelled": []}
    assert market.call("DELETE", "/api/v1/orders", "alice@x.io").json()["cancelled"][0][
        "status"] == "cancelled"
    assert open_orders(market.engine, "alice") == []


def order_row(engine, order_id: str) -> tuple[str, str | None]:  # noqa: ANN001
    with engine.connect() as conn:
        return tuple(conn.execute(text("SELECT status, cancel_reason FROM orders WHERE id = :id"),
                                  {"id": order_id}).one())


def test_a_triggered_stop_of_an_owner_who_may_no_longer_trade_is_cancelled(market) -> None:  # noqa: ANN001
    assert order(market, "alice", "sell", 1, "10.00").status_code == 201  # a last price
    assert order(market, "bob", "buy", 1, "10.00").json()["status"] == "filled"
    start = holdings(market.engine, "carol")
    stop = order(market, "carol", "buy", 2, None, "stop_loss", stop_price="10.50").json()
    assert stop["status"] == "pending_stop"
    with market.engine.begin() as conn:  # deactivated; the cancel of that change not yet run
        conn.execute(text("UPDATE users SET is_activated = false WHERE email = 'carol@x.io'"))
    assert order(market, "alice", "sell", 5, "10.50").status_code == 201
    assert order(market, "bob", "buy", 1, "10.50").json()["status"] == "filled"  # triggers it
    assert order_row(market.engine, stop["id"]) == ("cancelled", "owner_ineligible")
    assert holdings(market.engine, "carol") == start
    assert market.call("GET", "/api/v1/orderbook/DATE", "bob@x.io").json()["asks"] == [["10.50", 4]]


def test_a_stop_triggered_by_a_trade_that_trips_the_breaker_does_not_run(market) -> None:  # noqa: ANN001
    assert order(market, "alice", "sell", 1, "10.00").status_code == 201
    assert order(market, "bob", "buy", 1, "10.00").json()["status"] == "filled"
    start = holdings(market.engine, "carol")
    stop = order(market, "carol", "buy", 2, None, "stop_loss", stop_price="10.50").json()
    assert order(market, "alice", "sell", 5, "11.00").status_code == 201
    bought = order(market, "bob", "buy", 1, "11.00")  # a 10% move: the breaker trips
    assert bought.json()["status"] == "filled", bought.text
    assert order_row(market.engine, stop["id"]) == ("cancelled", "circuit_breaker_tripped")
    assert holdings(market.engine, "carol") == start
    with market.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM circuit_breaker_events")).scalar_one() == 1
