"""The order writer: a group whose commit fails leaves memory exactly as the database is."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import time
import weakref
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from platform_builders import live_token, wallet_for
from sqlalchemy import text

from alefctl.errors import NotFound, Unavailable
from alefctl.server.writer import OrderWriter
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.books import load_book
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import CancelOrder, PlaceOrder
from alefctl.workflows.trading.state import load_orders

D = Decimal
LIMITS = NotionalLimits(D(500), D(5000), D(50000))
REFUSE_TRADES_OF_SEVEN = (
    "CREATE FUNCTION refuse_seven() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.quantity = 7 THEN RAISE EXCEPTION 'a trade of 7 fails to commit'; END IF;"
    " RETURN NEW; END $$;"
    " CREATE TRIGGER refuse_seven BEFORE INSERT ON trades FOR EACH ROW EXECUTE FUNCTION refuse_seven()")


def limit(side: str, quantity: int, price: str) -> OrderRequest:
    return OrderRequest("DATE", side, "limit", quantity, D(price))


def test_a_failed_commit_leaves_the_book_and_open_orders_as_the_database(platform, chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    with platform.engine.begin() as conn:
        conn.exec_driver_sql(REFUSE_TRADES_OF_SEVEN)
    alice, bob, carol = (platform.actor(f"{n}@x.io", "api") for n in ("alice", "bob", "carol"))
    writer = OrderWriter(platform.engine, LIMITS, lambda _report: None)
    queued = [writer.submit(PlaceOrder(alice, limit("sell", 10, "10.00"))),
              writer.submit(PlaceOrder(carol, limit("buy", 2, "10.00"))),
              writer.submit(PlaceOrder(carol, limit("buy", 7, "10.00"))),  # its trade fails
              writer.submit(PlaceOrder(bob, limit("sell", 3, "11.00")))]
    writer.start()  # one group takes all four; its commit fails; each is retried alone
    try:
        concurrent.futures.wait(queued, timeout=30)
        with pytest.raises(Unavailable, match="could not be committed"):
            queued[2].result()
        sell, buy, _, ask = (future.result() if i != 2 else None for i, future in enumerate(queued))
        assert (sell["status"], buy["status"], ask["status"]) == ("open", "filled", "open")

        def state(books: dict) -> tuple:
            token_id = next(iter(books))
            return token_id, books[token_id].snapshot(), dict(writer.books.open_orders)

        token_id, snapshot, open_orders = writer.call(state).result(timeout=10)
        with platform.engine.connect() as conn:
            assert load_book(conn, token_id).snapshot() == snapshot
            in_database = load_orders(conn, list(open_orders))
        assert open_orders and set(open_orders) <= {sell["id"], ask["id"]}  # the failed group's: reread
        assert {i: o.row() for i, o in open_orders.items()} == {i: o.row() for i, o in in_database.items()}

        # the writer goes on from the committed state: the rest of the sell fills, then cancels
        more = writer.submit(PlaceOrder(carol, limit("buy", 5, "10.00"))).result(timeout=10)
        assert more["status"] == "filled" and more["trades"][0]["quantity"] == 5
        cancelled = writer.submit(CancelOrder(alice, str(sell["id"]))).result(timeout=10)
        assert (cancelled["status"], cancelled["filled_quantity"]) == ("cancelled", 7)
    finally:
        writer.stop()
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT sum(quantity) FROM trades")).scalar_one() == 7


def test_a_refused_command_is_freed_without_the_cycle_collector(platform, chain_client) -> None:  # noqa: ANN001
    """A refusal's traceback led back to its group's commands and futures: a cycle that kept
    every refused group alive until the slow full collection."""
    live_token(platform, chain_client, "DATE", {"alice": 100})
    alice = platform.actor("alice@x.io", "api")
    writer = OrderWriter(platform.engine, LIMITS, lambda _report: None)
    writer.start()
    gc.disable()
    try:
        refused = writer.submit(CancelOrder(alice, "00000000-0000-7000-8000-000000000000"))
        assert isinstance(refused.exception(timeout=30), NotFound)
        # the writer drops its last group when it takes the next one
        writer.submit(PlaceOrder(alice, limit("sell", 1, "10.00"))).result(timeout=30)
        gone = weakref.ref(refused)
        del refused
        assert gone() is None
    finally:
        gc.enable()
        writer.stop()


def _pause(_books: dict, seconds: float) -> None:
    time.sleep(seconds)


def test_client_order_ids_within_one_group(platform, chain_client) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {"alice": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    carol = platform.actor("carol@x.io", "api")
    writer = OrderWriter(platform.engine, LIMITS, lambda _report: None)
    writer.start()
    try:
        def place() -> concurrent.futures.Future:
            request = OrderRequest("DATE", "buy", "limit", 1, D("9.00"), client_order_id="x-1")
            return writer.submit(PlaceOrder(carol, request))

        first = place().result(timeout=30)
        writer.call(_pause, 0.5)  # the three commands below queue up and run as one group
        cancelled, again, resent = (writer.submit(CancelOrder(carol, str(first["id"]))), place(),
                                    place())
        assert cancelled.result(timeout=30)["status"] == "cancelled"
        again, resent = again.result(timeout=30), resent.result(timeout=30)
        for retry in (again, resent):  # the original, as the group's cancel left it
            assert (retry["id"], retry["status"], retry["duplicate"]) == (
                first["id"], "cancelled", True)
        writer.call(_pause, 0.5)  # a new key twice in one group: one order
        new, repeated = (writer.submit(PlaceOrder(carol, OrderRequest(
            "DATE", "buy", "limit", 1, D("9.00"), client_order_id=key))) for key in ("x-2", "x-2"))
        new, repeated = new.result(timeout=30), repeated.result(timeout=30)
        assert not new.get("duplicate") and (repeated["id"], repeated["duplicate"]) == (new["id"], True)
    finally:
        writer.stop()


@pytest.mark.parametrize("writer_process", [True, False])
def test_orders_book_and_errors_cross_from_either_writer(platform, chain_client, engine, db_url,
                                                         tmp_path, writer_process) -> None:  # noqa: ANN001
    from server_client import place, running_api

    live_token(platform, chain_client, "DATE", {"alice": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    with running_api(engine, db_url, tmp_path / "home", platform.admin,
                     writer_process=writer_process) as api, \
            api.client.websocket_connect(f"/api/v1/ws?api_key={api.key('carol@x.io')}") as socket:
        for channel in ("trades:DATE", "orders"):
            socket.send_json({"op": "subscribe", "channel": channel})
            assert socket.receive_json()["type"] == "subscribed"
        assert place(api, "alice", "sell", 4, "10.50").status_code == 201
        bought = place(api, "carol", "buy", 1, "10.50").json()
        assert bought["status"] == "filled" and bought["trades"][0]["price"] == "10.50"
        pushed = {m["type"]: m for m in (socket.receive_json(), socket.receive_json())}
        assert (pushed["trade"]["price"], pushed["trade"]["quantity"]) == ("10.50", 1)
        assert pushed["order"]["order"]["id"] == bought["id"]
        assert pushed["order"]["order"]["status"] == "filled"
        refused = place(api, "alice", "sell", 120, "4.00", confirm_fat_finger=True,
                        confirm_nav_deviation=True)  # 96 free
        assert (refused.status_code, refused.json()["code"]) == (409, "insufficient_funds")
        over = place(api, "carol", "buy", 5000, "10.50")  # $52,500: over every accreditation limit
        assert (over.status_code, over.json()["code"]) == (409, "investment_limit")
        book = api.call("GET", "/api/v1/orderbook/DATE", "carol@x.io").json()
        assert (book["asks"], book["last_price"]) == ([["10.50", 3]], "10.50")
        metrics = api.call("GET", "/metrics").text  # each committed group reports its COMMIT time
        commits = next(line for line in metrics.splitlines()
                       if line.startswith("alef_order_commit_seconds_count"))
        assert float(commits.split()[1]) >= 2


def test_requests_of_one_loop_turn_reach_the_writer_process_in_one_write(platform, chain_client,
                                                                          db_url, tmp_path) -> None:  # noqa: ANN001
    from alefctl.server.writer_process import WriterProcess
    from alefctl.settings import load_settings

    live_token(platform, chain_client, "DATE", {"alice": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    alice, carol = (platform.actor(f"{n}@x.io", "api") for n in ("alice", "carol"))
    settings = load_settings(home=tmp_path / "home", database={"url": db_url})

    async def trade() -> tuple[list[int], list[dict]]:
        writer = WriterProcess(settings, lambda _report: None)
        writer.start()  # on the loop's thread: its requests leave once per loop turn
        writes: list[int] = []
        send = writer._send
        writer._send = lambda requests: (writes.append(len(requests)), send(requests))[1]
        try:
            futures = [writer.submit(PlaceOrder(alice, limit("sell", 1, f"10.0{i}"))) for i in range(5)]
            futures.append(writer.submit(PlaceOrder(carol, limit("buy", 5, "10.10"))))
            return writes, await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
        finally:
            writer.stop()

    writes, results = asyncio.run(trade())
    assert writes[0] == 6
    assert [r["status"] for r in results] == ["open"] * 5 + ["filled"]  # each as it was placed
    assert len(results[-1]["trades"]) == 5


def test_the_duplicate_check_probes_the_index_whatever_the_statistics(platform, chain_client) -> None:  # noqa: ANN001
    from alefctl.db.batches import _driver_sql
    from alefctl.workflows.trading.client_ids import BY_CLIENT_ID

    token = live_token(platform, chain_client, "DATE", {"alice": 100})
    alice = platform.actor("alice@x.io", "api")
    with platform.engine.begin() as conn:  # thousands of open orders, never analyzed
        conn.execute(text(
            "INSERT INTO orders (id, user_id, token_id, client_order_id, side, order_type, price,"
            " quantity, locked_fiat, status) SELECT gen_random_uuid(), :u, :t, 'c' || n, 'buy',"
            " 'limit', 1.00, 1, 1.00, 'open' FROM generate_series(1, 4000) AS n"),
            {"u": alice.user_id, "t": token.id})
        raw = conn.connection.driver_connection
        plan = "\n".join(row[0] for row in raw.execute(
            "EXPLAIN (ANALYZE, COSTS OFF) " + _driver_sql(BY_CLIENT_ID),
            {"users": [alice.user_id] * 20, "client_ids": [f"c{n}" for n in range(20)],
             "since": datetime.now(UTC) - timedelta(hours=24)}))
    assert "rows=19 loops=1" in plan.splitlines()[0]  # c1 to c19 exist
    assert "Index Scan Backward using orders_client_order_id " in plan and "loops=20" in plan, plan
    assert "Hash" not in plan and "Bitmap" not in plan and "Seq Scan on orders" not in plan, plan


def test_the_writer_plans_by_key_on_tables_without_statistics(platform) -> None:  # noqa: ANN001
    """The writer's statements are planned in its first groups, when the tables may be new: the
    update of a group's orders and the lock of orders to cancel must still probe the primary
    key, not scan (and hash) every order in every group."""
    import re

    from alefctl.db.batches import _driver_sql
    from alefctl.workflows.trading.ledger import UPDATE_ORDERS
    from alefctl.workflows.trading.state import LOCK_ORDERS

    conn = OrderWriter(platform.engine, LIMITS, lambda _: None)._connect()
    try:
        placeholder = re.compile(r"%\((\w+)\)[bs]")  # psycopg's, named: generic plans take $n
        for sql in (UPDATE_ORDERS.sql, _driver_sql(LOCK_ORDERS)):
            names = list(dict.fromkeys(placeholder.findall(sql)))
            generic = placeholder.sub(lambda m: f"${names.index(m[1]) + 1}", sql)  # noqa: B023
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(
                "EXPLAIN (GENERIC_PLAN, COSTS OFF) " + generic.replace("%", "%%")))
            assert "orders_pkey" in plan and "Seq Scan" not in plan, plan
    finally:
        conn.close()


def test_both_writers_have_the_writer_interface() -> None:
    """The server types its writer against writer.Writer (mypy checks the classes; this checks
    that nothing of it is missing or differently called, where mypy is not run)."""
    import inspect

    from alefctl.server.writer import Writer
    from alefctl.server.writer_process import WriterProcess

    members = [name for name in vars(Writer) if not name.startswith("_")]
    assert members == ["start", "stop", "submit", "call", "depth"]
    for writer_class in (OrderWriter, WriterProcess):
        for name in members:
            assert (inspect.signature(getattr(writer_class, name)).parameters.keys()
                    == inspect.signature(getattr(Writer, name)).parameters.keys()), (writer_class, name)
