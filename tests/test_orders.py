"""The investor order API on a live token: the spec's order sequence over HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from platform_builders import live_token
from server_client import place as order
from sqlalchemy import text

D = Decimal


def _wallet(name: str) -> str:
    from platform_builders import wallet_for

    return wallet_for(name)


def balances(api, *names: str) -> dict[str, tuple[Decimal, int, int]]:  # noqa: ANN001
    """name -> (fiat balance, DATE balance, DATE locked)."""
    with api.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT split_part(u.email, '@', 1) AS name, u.fiat_balance,"
            " coalesce(w.balance, 0) AS balance, coalesce(w.locked_balance, 0) AS locked"
            " FROM users u LEFT JOIN wallets w ON w.user_id = u.id AND w.token_id ="
            " (SELECT id FROM tokens WHERE symbol = 'DATE')")).all()
    return {r.name: (r.fiat_balance, r.balance, r.locked) for r in rows if r.name in names}


def test_limit_orders_match_at_the_makers_price_with_fees(market) -> None:  # noqa: ANN001
    before = balances(market, "alice", "carol", "treasury")
    sell = order(market, "alice", "sell", 10, "12.00")
    assert sell.status_code == 201 and sell.json()["status"] == "open"
    assert balances(market, "alice")["alice"][2] == 10  # tokens locked
    buy = order(market, "carol", "buy", 4, "12.50")  # pays 12.00: price improvement refunded
    assert buy.status_code == 201, buy.text
    body = buy.json()
    assert body["status"] == "filled" and [t["price"] for t in body["trades"]] == ["12.00"]
    after = balances(market, "alice", "carol", "treasury")
    fee = D("0.24")  # 48.00 x 50 bps
    assert after["carol"] == (before["carol"][0] - D("48.00"), 4, 0)
    assert after["alice"] == (before["alice"][0] + D("48.00") - fee, 96, 6)
    assert after["treasury"][0] == before["treasury"][0] + fee
    with market.engine.connect() as conn:
        trade = conn.execute(text("SELECT price, quantity, total, platform_fee, settlement_status"
                                  " FROM trades")).one()
        history = conn.execute(text("SELECT count(*) FROM trade_settlement_history")).scalar_one()
        statuses = conn.execute(text(
            "SELECT to_status FROM order_status_history WHERE order_id = :id ORDER BY created_at"),
            {"id": sell.json()["id"]}).scalars().all()
    assert tuple(trade) == (D("12.00"), 4, D("48.00"), fee, "pending") and history == 1
    assert statuses == ["open", "partially_filled"]
    book = market.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
    assert book["asks"] == [["12.00", 6]] and book["bids"] == [] and book["last_price"] == "12.00"
    mine = market.call("GET", "/api/v1/trades", "carol@x.io").json()
    assert [(t["side"], t["quantity"]) for t in mine] == [("buy", 4)]


def test_cancel_returns_locked_money_and_tokens(market) -> None:  # noqa: ANN001
    start = balances(market, "alice", "carol")
    buy = order(market, "carol", "buy", 10, "9.00").json()
    sell = order(market, "alice", "sell", 5, "11.00").json()
    assert balances(market, "carol")["carol"][0] == start["carol"][0] - D("90.00")
    assert market.call("DELETE", f"/api/v1/orders/{buy['id']}", "alice@x.io").status_code == 404
    assert market.call("DELETE", f"/api/v1/orders/{buy['id']}", "carol@x.io").json()["status"] == \
        "cancelled"
    again = market.call("DELETE", f"/api/v1/orders/{buy['id']}", "carol@x.io")
    assert again.status_code == 409
    assert market.call("DELETE", f"/api/v1/orders/{sell['id']}", "admin@x.io").status_code == 200
    assert balances(market, "alice", "carol") == start
    assert market.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()["bids"] == []


def test_market_buy_spends_a_bounded_budget(market) -> None:  # noqa: ANN001
    order(market, "alice", "sell", 3, "10.00")
    order(market, "bob", "sell", 3, "11.00")
    start = balances(market, "carol")["carol"][0]
    bought = order(market, "carol", "buy", 10, order_type="market").json()
    assert bought["status"] == "cancelled" and bought["filled_quantity"] == 6
    assert bought["cancel_reason"] == "market_unfilled"
    assert balances(market, "carol")["carol"] == (start - D("63.00"), 6, 0)


def test_ioc_and_fok(market) -> None:  # noqa: ANN001
    order(market, "alice", "sell", 5, "10.00")
    fok = order(market, "carol", "buy", 6, "10.00", time_in_force="FOK").json()
    assert fok["status"] == "cancelled" and fok["filled_quantity"] == 0
    ioc = order(market, "carol", "buy", 6, "10.00", time_in_force="IOC").json()
    assert (ioc["status"], ioc["filled_quantity"], ioc["locked_fiat"]) == ("cancelled", 5, "0.00")


def test_resending_a_client_order_id_returns_the_original(market) -> None:  # noqa: ANN001
    first = order(market, "carol", "buy", 2, "9.00", client_order_id="abc-1")
    second = order(market, "carol", "buy", 2, "9.00", client_order_id="abc-1")
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    listed = market.call("GET", "/api/v1/orders?status=open", "carol@x.io").json()
    assert len(listed) == 1


@pytest.mark.parametrize(("who", "args", "status", "code"), [
    ("carol", ("buy", 10, "9.015"), 422, "invalid_input"),          # off the tick grid
    ("carol", ("buy", 10, None), 422, "invalid_input"),             # a limit needs a price
    ("carol", ("hold", 10, "9.00"), 422, "invalid_input"),
    ("carol", ("buy", 0, "9.00"), 422, "invalid_input"),
    ("carol", ("buy", 600, "10.00"), 409, "investment_limit"),      # professional: $5,000 a year
    ("carol", ("sell", 1, "10.00"), 409, "insufficient_funds"),     # carol holds no tokens
    ("alice", ("sell", 101, "10.00"), 409, "insufficient_funds"),
    ("admin", ("buy", 1, "10.00"), 403, "permission_denied"),
])
def test_refusals(market, who, args, status, code) -> None:  # noqa: ANN001
    response = order(market, who, *args)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_unapproved_investor_and_primary_token_are_refused(market, platform, chain_client) -> None:  # noqa: ANN001
    platform.person("newbie", wallet=_wallet("newbie"))
    assert order(market, "newbie", "buy", 1, "10.00").json()["code"] == "permission_denied"
    platform.draft_token("PRIM")
    from alefctl.workflows.lifecycle import start_offering
    from alefctl.workflows.onchain.deploy import deploy_token

    deploy_token(platform.engine, platform.admin, "PRIM", chain_client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, "PRIM")
    response = market.call("POST", "/api/v1/orders", "carol@x.io", json={
        "token_id": "PRIM", "side": "buy", "quantity": 1, "price": "10.00"})
    assert response.status_code == 409 and "subscribe instead" in response.json()["detail"]


def test_stop_order_waits_then_triggers(market) -> None:  # noqa: ANN001
    stop = order(market, "bob", "sell", 5, None, order_type="stop_loss", stop_price="9.00").json()
    assert stop["status"] == "pending_stop" and stop["locked_quantity"] == 5
    order(market, "carol", "buy", 10, "8.50")           # a bid for the stop to hit
    order(market, "alice", "sell", 1, "9.00")
    order(market, "carol", "buy", 1, "9.00")            # trade at 9.00 triggers the stop
    shown = market.call("GET", f"/api/v1/orders/{stop['id']}", "bob@x.io").json()
    assert shown["status"] == "filled" and shown["filled_quantity"] == 5
    with market.engine.connect() as conn:
        statuses = conn.execute(text("SELECT to_status FROM order_status_history WHERE order_id ="
                                     " :id ORDER BY created_at, id"), {"id": stop["id"]}).scalars()
        assert list(statuses) == ["pending_stop", "open", "filled"]


def test_restart_rebuilds_identical_books(platform, chain_client, engine, db_url, tmp_path) -> None:  # noqa: ANN001
    from server_client import running_api

    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    platform.approved("carol", wallet=_wallet("carol"), fiat="50000")
    with running_api(engine, db_url, tmp_path / "home1", platform.admin) as first:
        for price in ("11.00", "11.50", "12.00"):
            order(first, "alice", "sell", 2, price)
        for price in ("9.00", "9.50"):
            order(first, "carol", "buy", 3, price)
        order(first, "bob", "sell", 1, None, order_type="stop_loss", stop_price="8.00")
        before = first.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
        keys = first.keys
    with running_api(engine, db_url, tmp_path / "home2", platform.admin) as restarted:
        restarted.keys = keys
        after = restarted.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
        assert after == before and after["bids"] and after["asks"]
        filled = order(restarted, "carol", "buy", 3, "11.50").json()
        assert filled["status"] == "filled" and [t["price"] for t in filled["trades"]] == [
            "11.00", "11.50"]


def test_a_second_server_on_the_same_database_is_refused(market, engine, db_url, tmp_path) -> None:  # noqa: ANN001
    from server_client import running_api

    from alefctl.errors import Conflict

    with pytest.raises(Conflict, match="already owns the order books"), \
            running_api(engine, db_url, tmp_path / "other", market.admin):
        pytest.fail("a second server started beside the first")


def test_admin_cancel_from_a_command_reaches_the_running_server(market, platform) -> None:  # noqa: ANN001
    import uuid

    from alefctl.workflows.trading.control import cancel_orders
    from alefctl.workflows.trading.funds import NotionalLimits

    start = balances(market, "carol")["carol"]
    placed = order(market, "carol", "buy", 10, "9.00").json()
    limits = NotionalLimits(D(500), D(5000), D(50000))
    done = cancel_orders(platform.engine, platform.admin, [uuid.UUID(placed["id"])], limits)
    assert done[0]["status"] == "cancelled"
    assert balances(market, "carol")["carol"] == start
    book = market.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
    assert book["bids"] == []  # the server's book lost the order too


def test_delisting_cancels_open_orders_and_returns_funds(market, platform) -> None:  # noqa: ANN001
    from alefctl.workflows.lifecycle import retire
    from alefctl.workflows.trading.funds import NotionalLimits

    start = balances(market, "alice", "carol")
    order(market, "carol", "buy", 10, "9.00")
    order(market, "alice", "sell", 5, "11.00")
    token = retire(platform.engine, platform.admin, "DATE", "delist",
                   NotionalLimits(D(500), D(5000), D(50000)))
    assert token.status == "delisted"
    assert balances(market, "alice", "carol") == start
    refused = order(market, "carol", "buy", 1, "9.00")
    assert refused.status_code == 409


def test_cancel_without_a_server_applies_directly(platform, chain_client) -> None:  # noqa: ANN001
    from alefctl.workflows.trading.control import cancel_orders
    from alefctl.workflows.trading.funds import NotionalLimits

    live_token(platform, chain_client, "DATE", {"alice": 100})
    alice = platform.actor("alice@x.io")
    from alefctl.db.system_users import treasury_id
    from alefctl.workflows.orders import OrderRequest
    from alefctl.workflows.trading.books import Books
    from alefctl.workflows.trading.group import OrderGroup, PlaceOrder
    from alefctl.workflows.trading.state import MonotonicClock

    limits = NotionalLimits(D(500), D(5000), D(50000))
    with platform.engine.begin() as conn:  # an order placed by a server that has since stopped
        group = OrderGroup(conn, Books(), limits, treasury_id(conn), MonotonicClock())
        placed = group.run(PlaceOrder(alice, OrderRequest("DATE", "sell", "limit", 7, D("12.00"))))
        group.flush()
    assert balances_of(platform, "alice") == (7,)
    done = cancel_orders(platform.engine, alice, [placed["id"]], limits)
    assert done[0]["status"] == "cancelled" and balances_of(platform, "alice") == (0,)
    with platform.engine.begin() as conn:  # an admin cancelling an investor's order is audited
        group = OrderGroup(conn, Books(), limits, treasury_id(conn), MonotonicClock())
        placed = group.run(PlaceOrder(alice, OrderRequest("DATE", "sell", "limit", 3, D("12.00"))))
        group.flush()
    cancel_orders(platform.engine, platform.admin, [placed["id"]], limits)
    with platform.engine.connect() as conn:
        audited = conn.execute(text("SELECT u.email, a.action, a.before ->> 'status' FROM audit_logs a"
                                    " JOIN users u ON u.id = a.actor_id WHERE a.object_id = :id"),
                               {"id": placed["id"]}).all()
    assert [tuple(row) for row in audited] == [("admin@x.io", "order.cancel", "open")]


def balances_of(platform, name: str) -> tuple[int]:  # noqa: ANN001
    with platform.engine.connect() as conn:
        return (conn.execute(text("SELECT w.locked_balance FROM wallets w JOIN users u ON"
                                  " u.id = w.user_id WHERE u.email = :e"),
                             {"e": f"{name}@x.io"}).scalar_one(),)


def test_websocket_book_snapshot_then_deltas_and_private_orders(market) -> None:  # noqa: ANN001
    key = market.key("carol@x.io")
    with market.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        socket.send_json({"op": "subscribe", "channel": "book:DATE"})
        snapshot = socket.receive_json()
        assert snapshot["type"] == "snapshot" and snapshot["bids"] == []
        assert socket.receive_json()["type"] == "subscribed"
        socket.send_json({"op": "subscribe", "channel": "orders"})
        assert socket.receive_json()["type"] == "subscribed"
        order(market, "carol", "buy", 2, "9.00")
        messages = [socket.receive_json(), socket.receive_json()]
        delta = next(m for m in messages if m["type"] == "delta")
        assert delta["seq"] == snapshot["seq"] + 1 and delta["changes"] == [["buy", "9.00", 2]]
        mine = next(m for m in messages if m["type"] == "order")
        assert mine["order"]["status"] == "open"


def test_websocket_private_orders_are_the_subscribers_alone(market) -> None:  # noqa: ANN001
    with market.client.websocket_connect(f"/api/v1/ws?api_key={market.key('alice@x.io')}") as alice:
        alice.send_json({"op": "subscribe", "channel": "orders"})
        subscribed = alice.receive_json()
        alice_id = subscribed["channel"].partition(":")[2]
    with market.client.websocket_connect(f"/api/v1/ws?api_key={market.key('carol@x.io')}") as socket:
        socket.send_json({"op": "subscribe", "channel": f"orders:{alice_id}"})
        refused = socket.receive_json()
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
        socket.send_json({"op": "subscribe", "channel": "orders"})  # carol's own: still hers
        assert socket.receive_json()["type"] == "subscribed"
        order(market, "alice", "sell", 1, "12.00")
        order(market, "carol", "buy", 1, "9.00")
        mine = socket.receive_json()
        assert mine["type"] == "order" and mine["order"]["side"] == "buy"


def test_websocket_refuses_a_bad_key(market) -> None:  # noqa: ANN001
    from starlette.websockets import WebSocketDisconnect

    with market.client.websocket_connect("/api/v1/ws?api_key=alef_nope") as socket, \
            pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_json()
    assert closed.value.code == 4001
