"""An order group and a dividend payment at once: both take shared rows in the lock order of
alefctl.db.locks, so neither waits for the other in a circle (a deadlock, which PostgreSQL
breaks by failing one of them)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from platform_builders import live_token
from sqlalchemy import text

from alefctl.db.system_users import treasury_id
from alefctl.workflows.dividends.declaration import NewDividend, declare
from alefctl.workflows.dividends.distribution import pay_chunk, start_distribution
from alefctl.workflows.dividends.review import approve, submit
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.books import Books
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup, PlaceOrder
from alefctl.workflows.trading.state import MonotonicClock
from alefctl.workflows.wallet import deposit

LIMITS = NotionalLimits(Decimal(500), Decimal(5000), Decimal(50000))


def _place(engine, actor, request: OrderRequest) -> dict:  # noqa: ANN001
    with engine.begin() as conn:
        group = OrderGroup(conn, Books(), LIMITS, treasury_id(conn), MonotonicClock())
        group.prepare([PlaceOrder(actor, request)])
        outcome = group.run(PlaceOrder(actor, request))
        group.flush()
    assert isinstance(outcome, dict), outcome
    return outcome


def test_an_order_group_and_a_dividend_payment_never_deadlock(platform, chain_client) -> None:  # noqa: ANN001
    # mia (the maker) was created before tom (the taker), so a holder lock in id order takes
    # mia first; both hold tokens, and so does the treasury (go-live allocation).
    live_token(platform, chain_client, "DATE", {"mia": 100, "tom": 100})
    engine = platform.engine
    mia, tom = platform.actor("mia@x.io", "api"), platform.actor("tom@x.io", "api")
    _place(engine, mia, OrderRequest("DATE", "sell", "limit", 5, Decimal("10.00")))
    with engine.begin() as conn:
        deposit(conn, platform.admin, platform.issuer.email, "10000")
        dividend = declare(conn, platform.issuer, NewDividend("DATE", "fiat", per_token_usd="0.10"),
                           fee_pct="1.00", treasury_earns=True)  # the treasury is paid too
        submit(conn, platform.issuer, str(dividend.id))
        approve(conn, platform.admin, str(dividend.id))
        start_distribution(conn, platform.admin, str(dividend.id))

    prepared = threading.Event()
    errors: list[BaseException] = []
    outcomes: list[object] = []

    def order_group() -> None:
        # Tom's rows are locked in prepare; the trade credits mia (and the treasury its fee)
        # only at flush, while the dividend payment runs.
        buy = PlaceOrder(tom, OrderRequest("DATE", "buy", "limit", 5, Decimal("10.00")))
        try:
            with engine.begin() as conn:
                group = OrderGroup(conn, Books(), LIMITS, treasury_id(conn), MonotonicClock())
                group.prepare([buy])
                prepared.set()
                time.sleep(1.0)  # the payment now holds what it could lock, or waits at the gate
                outcomes.append(group.run(buy))
                group.flush()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            prepared.set()

    def dividend_payment() -> None:
        prepared.wait(10)
        try:
            with engine.begin() as conn:
                outcomes.append(pay_chunk(conn, platform.admin, str(dividend.id)))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=order_group), threading.Thread(target=dividend_payment)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    trade, chunk = outcomes if isinstance(outcomes[0], dict) else outcomes[::-1]
    assert trade["status"] == "filled"
    assert chunk.paid == 3  # mia, tom and the treasury
    with engine.connect() as conn:
        trades = conn.execute(text("SELECT count(*) FROM trades")).scalar_one()
        pending = conn.execute(text("SELECT count(*) FROM dividend_payments WHERE status = 'pending'"
                                    )).scalar_one()
    assert (trades, pending) == (1, 0)
