"""Amending an order (PATCH /api/v1/orders/{id}, `alefctl order amend`): quantity down keeps
time priority, a new price loses it (and may trade at once), funds follow, refusals are 409 and
422; the fast path and the FastAPI route give the same answers."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from platform_builders import live_token
from server_client import place
from sqlalchemy import text
from test_eligibility import holdings

from alefctl.server.order_path import OrderFastPath

D = Decimal


def amend(api, who: str, order_id: str, **change: object):  # noqa: ANN001, ANN201
    return api.call("PATCH", f"/api/v1/orders/{order_id}", f"{who}@x.io", json=change)


def makers(response) -> list[tuple[str, int]]:  # noqa: ANN001
    """(seller's order id, quantity) of each fill of a buy, from the trades table."""
    return [(t["trade_id"], t["quantity"]) for t in response.json()["trades"]]


def sell_order_of(engine, trade_id) -> str:  # noqa: ANN001
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT sell_order_id FROM trades WHERE id = :t"),
                                {"t": trade_id}).scalar_one())


def test_only_patch_of_one_order_takes_the_fast_path() -> None:
    passed_on: list[tuple[str, str]] = []

    async def fastapi(scope, _receive, _send) -> None:  # noqa: ANN001
        passed_on.append((scope["method"], scope["path"]))

    fast_path = OrderFastPath(fastapi)
    for method, path in [("PATCH", "/api/v1/orders/"), ("PATCH", "/api/v1/orders/a/b"),
                         ("PATCH", "/api/v1/orders"), ("POST", "/api/v1/orders/cancel-all-after")]:
        asyncio.run(fast_path({"type": "http", "method": method, "path": path, "headers": []},
                              None, None))
    assert len(passed_on) == 4


def test_lower_quantity_keeps_priority_and_frees_tokens(market) -> None:  # noqa: ANN001
    first = place(market, "alice", "sell", 10, "11.00").json()["id"]
    second = place(market, "bob", "sell", 10, "11.00").json()["id"]
    assert holdings(market.engine, "alice")[1] == 10
    reduced = amend(market, "alice", first, quantity=4)
    assert reduced.status_code == 200, reduced.text
    assert (reduced.json()["quantity"], reduced.json()["remaining_quantity"]) == (4, 4)
    assert holdings(market.engine, "alice")[1] == 4  # six tokens unlocked at once
    bought = place(market, "carol", "buy", 5, "11.00")
    fills = [(sell_order_of(market.engine, t), q) for t, q in makers(bought)]
    assert fills == [(first, 4), (second, 1)]  # alice first still: she kept her place
    assert market.call("GET", f"/api/v1/orders/{first}", "alice@x.io").json()["status"] == "filled"
    with market.engine.connect() as conn:
        reasons = conn.execute(text("SELECT reason FROM order_status_history WHERE order_id = :o"
                                    " ORDER BY created_at"), {"o": first}).scalars().all()
    assert "amended" in reasons


def test_a_new_price_loses_priority(market) -> None:  # noqa: ANN001
    first = place(market, "alice", "sell", 5, "11.00").json()["id"]
    second = place(market, "bob", "sell", 5, "11.00").json()["id"]
    assert amend(market, "alice", first, price="11.01").status_code == 200
    back = amend(market, "alice", first, price="11.00")
    assert back.status_code == 200 and back.json()["price"] == "11.00"
    bought = place(market, "carol", "buy", 5, "11.00")
    assert [sell_order_of(market.engine, t) for t, _ in makers(bought)] == [second]


def test_a_buys_money_follows_its_price_and_quantity(market) -> None:  # noqa: ANN001
    free = holdings(market.engine, "carol")[0]
    order_id = place(market, "carol", "buy", 10, "9.00").json()["id"]
    assert holdings(market.engine, "carol")[0] == free - D("90.00")
    higher = amend(market, "carol", order_id, price="9.50")
    assert higher.json()["locked_fiat"] == "95.00"
    assert holdings(market.engine, "carol")[0] == free - D("95.00")
    both = amend(market, "carol", order_id, price="9.00", quantity=4)
    assert both.json()["locked_fiat"] == "36.00"
    assert holdings(market.engine, "carol")[0] == free - D("36.00")
    market.call("DELETE", f"/api/v1/orders/{order_id}", "carol@x.io")
    assert holdings(market.engine, "carol")[0] == free  # to the cent


def test_a_price_that_crosses_trades_at_once(market) -> None:  # noqa: ANN001
    place(market, "alice", "sell", 3, "10.00")
    order_id = place(market, "carol", "buy", 5, "9.00").json()["id"]
    crossed = amend(market, "carol", order_id, price="10.00")
    assert crossed.status_code == 200, crossed.text
    assert crossed.json()["status"] == "partially_filled" and crossed.json()["filled_quantity"] == 3
    assert [t["quantity"] for t in crossed.json()["trades"]] == [3]
    book = market.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
    assert book["bids"] == [["10.00", 2]] and book["asks"] == []
    assert crossed.json()["locked_fiat"] == "20.00"


def test_refusals(market) -> None:  # noqa: ANN001
    def problem(response) -> tuple[int, str]:  # noqa: ANN001
        assert response.headers["content-type"] == "application/problem+json", response.text
        return response.status_code, response.json()["code"]

    order_id = place(market, "carol", "buy", 5, "9.00").json()["id"]
    assert problem(amend(market, "carol", order_id, quantity=6)) == (422, "invalid_input")
    assert problem(amend(market, "carol", order_id, quantity=0)) == (422, "invalid_input")
    assert problem(amend(market, "carol", order_id)) == (422, "invalid_input")
    assert problem(amend(market, "carol", order_id, price="9.001")) == (422, "invalid_input")
    assert problem(amend(market, "carol", order_id, quantity="4"))[0] == 422
    assert problem(amend(market, "alice", order_id, quantity=4)) == (404, "not_found")
    assert problem(amend(market, "admin", order_id, quantity=4))[0] == 403
    market.call("DELETE", f"/api/v1/orders/{order_id}", "carol@x.io")
    assert problem(amend(market, "carol", order_id, quantity=4)) == (409, "conflict")
    place(market, "alice", "sell", 1, "10.00")
    filled = place(market, "carol", "buy", 1, "10.00").json()["id"]
    assert problem(amend(market, "carol", filled, price="9.00")) == (409, "conflict")
    stop = place(market, "carol", "buy", 1, "10.50", "stop_limit", stop_price="10.50").json()["id"]
    assert problem(amend(market, "carol", stop, price="10.40")) == (409, "conflict")
    cheap = place(market, "carol", "buy", 300, "9.00").json()["id"]
    far = amend(market, "carol", cheap, price="25.00")
    assert problem(far) == (422, "fat_finger_unconfirmed")  # the placement's protections
    too_dear = amend(market, "carol", cheap, price="25.00", confirm_fat_finger=True)
    assert problem(too_dear) == (403, "notional_limit")  # $7,500: carol's limit is $5,000
    same = amend(market, "carol", cheap, price="9.00")
    assert same.status_code == 200 and same.json()["locked_fiat"] == "2700.00"  # nothing changed


def test_the_fastapi_route_gives_the_same_answers(market) -> None:  # noqa: ANN001
    """The same PATCH through FastAPI's own route (the fast path taken away)."""
    app = market.client.app
    order_id = place(market, "carol", "buy", 5, "9.00").json()["id"]
    saved = app._edge.app  # noqa: SLF001  the body limit's inner app: the fast path
    app._edge.app = saved.app  # noqa: SLF001  FastAPI itself
    try:
        via_fastapi = amend(market, "carol", order_id, quantity=3)
        refused = amend(market, "carol", order_id, quantity=9)
    finally:
        app._edge.app = saved  # noqa: SLF001
    assert via_fastapi.status_code == 200 and via_fastapi.json()["quantity"] == 3
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_input"
    via_fast_path = amend(market, "carol", order_id, quantity=9)
    assert via_fast_path.json() == refused.json()


def test_order_amend_command_without_a_server(platform, chain_client, cli) -> None:  # noqa: ANN001
    from test_eligibility import _placed_without_a_server

    live_token(platform, chain_client, "DATE", {"carol": 10})
    _placed_without_a_server(platform, "carol", ("sell", "limit", 5, D("12.00")))
    with platform.engine.connect() as conn:
        order_id = str(conn.execute(text("SELECT id FROM orders")).scalar_one())
    carol = cli.as_user("carol@x.io")
    done = carol("order", "amend", order_id, "--quantity", "2", "--json")
    assert done.exit_code == 0, done.output
    assert holdings(platform.engine, "carol")[1] == 2
    assert carol("order", "amend", order_id, "--quantity", "9").exit_code == 2
    assert carol("order", "amend", order_id, "--price", "abc").exit_code == 2
    assert cli("order", "amend", order_id, "--quantity", "1").exit_code == 4  # the admin


def test_order_amend_command_reaches_the_running_server(market, cli) -> None:  # noqa: ANN001
    order_id = place(market, "carol", "buy", 5, "9.00").json()["id"]
    carol = cli.as_user("carol@x.io")
    done = carol("order", "amend", order_id, "--price", "9.50", "--json")
    assert done.exit_code == 0, done.output
    book = market.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
    assert book["bids"] == [["9.50", 5]]  # the server's book moved, not only the database
    refused = carol("order", "amend", order_id, "--quantity", "6")
    assert refused.exit_code == 2 and "only go down" in refused.output
    assert market.call("GET", f"/api/v1/orders/{order_id}", "carol@x.io").json()["quantity"] == 5
