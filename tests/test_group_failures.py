"""One bad order never hurts the others: a command the database refuses inside a commit group is
found by halving the group (about 2·log2(n) transactions, not n) and refused alone; the others
commit, and its answer carries no database text (server/writer.py)."""

from __future__ import annotations

import concurrent.futures
import math
from decimal import Decimal

import pytest
from platform_builders import live_token
from sqlalchemy import text

from alefctl.errors import InvalidInput, Unavailable
from alefctl.server import writer as writer_module
from alefctl.server.writer import OrderWriter
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.books import load_book
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup, PlaceOrder

LIMITS = NotionalLimits(Decimal(500), Decimal(5000), Decimal(50000))
REFUSE_SEVEN = (
    "CREATE FUNCTION refuse_seven() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.quantity = 7 THEN RAISE EXCEPTION 'secret internal text' USING ERRCODE = '{code}';"
    " END IF; RETURN NEW; END $$;"
    " CREATE TRIGGER refuse_seven BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_seven()")
GROUP = 32


@pytest.mark.parametrize(("code", "refusal"), [("22003", InvalidInput), ("P0001", Unavailable)],
                         ids=["refused-value", "other-error"])
def test_a_bad_row_is_refused_alone(platform, chain_client, monkeypatch, code: str,  # noqa: ANN001
                                    refusal: type) -> None:
    live_token(platform, chain_client, "DATE", {"alice": 1000})
    with platform.engine.begin() as conn:
        conn.exec_driver_sql(REFUSE_SEVEN.replace("{code}", code))
    groups = []

    class CountedGroup(OrderGroup):
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            groups.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(writer_module, "OrderGroup", CountedGroup)
    alice = platform.actor("alice@x.io", "api")
    writer = OrderWriter(platform.engine, LIMITS, lambda _report: None)
    quantities = [1] * GROUP
    quantities[GROUP * 2 // 3] = 7  # the bad one
    queued = [writer.submit(PlaceOrder(alice, OrderRequest(
        "DATE", "sell", "limit", quantity, Decimal("20.00") + i * Decimal("0.01"))))
        for i, quantity in enumerate(quantities)]
    writer.start()  # one group takes them all
    try:
        concurrent.futures.wait(queued, timeout=60)
        for quantity, future in zip(quantities, queued, strict=True):
            if quantity == 7:
                with pytest.raises(refusal) as refused:
                    future.result()
                assert "secret" not in str(refused.value)
            else:
                assert future.result()["status"] == "open"
        assert len(groups) <= 1 + 2 * math.ceil(math.log2(GROUP))  # not 1 + GROUP
        token_id, snapshot = writer.call(_snapshot).result(timeout=10)
        with platform.engine.connect() as conn:  # memory is as the database: the others rest
            assert load_book(conn, token_id).snapshot() == snapshot
            resting = conn.execute(text("SELECT count(*) FROM orders WHERE status = 'open'"))
            assert resting.scalar_one() == GROUP - 1
    finally:
        writer.stop()


def _snapshot(books: dict) -> tuple:
    token_id = next(iter(books))
    return token_id, books[token_id].snapshot()
