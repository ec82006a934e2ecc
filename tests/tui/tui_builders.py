"""Data for the console tests: orders through the real order path, and a platform with work queued."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from platform_builders import CIPHER, live_token, wallet_for
from sqlalchemy import text

from alefctl.db.system_users import treasury_id
from alefctl.ids import new_id
from alefctl.workflows.businesses import NewBusiness, register_business
from alefctl.workflows.dividends.declaration import NewDividend, declare
from alefctl.workflows.dividends.review import submit
from alefctl.workflows.kyc import KycSubmission, submit_kyc
from alefctl.workflows.lifecycle import start_offering
from alefctl.workflows.offering import confirm_payments, subscribe
from alefctl.workflows.onchain.deploy import deploy_token
from alefctl.workflows.orders import OrderRequest
from alefctl.workflows.trading.books import Books, load_books
from alefctl.workflows.trading.funds import NotionalLimits
from alefctl.workflows.trading.group import OrderGroup, PlaceOrder
from alefctl.workflows.wallet import deposit, submit_deposit

LIMITS = NotionalLimits(Decimal(500), Decimal(5000), Decimal(50000))


def place(platform, who: str, symbol: str, side: str, quantity: int, price: str) -> dict[str, Any]:  # noqa: ANN001
    """A limit order through the server's group writer, in-process, committed."""
    investor = platform.actor(f"{who}@x.io")
    with platform.engine.begin() as conn:
        group = OrderGroup(conn, Books(load_books(conn)), LIMITS, treasury_id(conn),
                           lambda: datetime.now(UTC))
        outcome = group.run(PlaceOrder(investor, OrderRequest(symbol, side, "limit", quantity,
                                                              Decimal(price))))
        assert not isinstance(outcome, Exception), outcome
        group.flush()
    return outcome


def failed_trade(platform, symbol: str = "DATE") -> str:  # noqa: ANN001
    """A trade amira -> omar whose settlement gave up after five attempts; returns its id."""
    place(platform, "amira", symbol, "sell", 10, "10.00")
    bought = place(platform, "omar", symbol, "buy", 10, "10.00")
    with platform.engine.begin() as conn:
        # What five failed on-chain attempts leave behind (the settlement worker is not run here).
        return str(conn.execute(text(
            "UPDATE trades SET settlement_status = 'failed', settlement_attempts = 5,"
            " settlement_error = 'free on-chain balance does not cover 10' WHERE buy_order_id = :o"
            " RETURNING id"), {"o": bought["id"]}).scalar_one())


def offering_with_confirmed_allocations(platform, chain_client) -> None:  # noqa: ANN001
    """DATE in its offering, 350 tokens sold and paid; their mints not run (no chain worker)."""
    offering_with_subscriptions(platform, chain_client)
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, "DATE")


def offering_with_subscriptions(platform, chain_client) -> None:  # noqa: ANN001
    """DATE deployed and in its offering; amira subscribed 100 tokens and omar 250, unpaid."""
    engine = platform.engine
    platform.draft_token("DATE")
    deploy_token(engine, platform.admin, "DATE", chain_client)
    with engine.begin() as conn:
        start_offering(conn, platform.admin, "DATE")
    for name, quantity in (("amira", 100), ("omar", 250)):
        investor = platform.approved(name, wallet=wallet_for(name), fiat="50000")
        with engine.begin() as conn:
            subscribe(conn, investor, "DATE", quantity)


def busy_platform(platform, chain_client) -> None:  # noqa: ANN001
    """One of everything the overview counts, and a market with depth and trades on DATE."""
    live_token(platform, chain_client, holders={"amira": 400, "omar": 300, "layla": 200})
    for price, who, side in (("10.40", "amira", "sell"), ("10.20", "layla", "sell"),
                             ("10.10", "amira", "sell"), ("9.90", "omar", "buy"),
                             ("9.80", "omar", "buy"), ("9.50", "layla", "buy")):
        place(platform, who, "DATE", side, 12, price)
    for price in ("10.10", "10.20", "10.10"):
        place(platform, "omar", "DATE", "buy", 3, price)
    failed_trade(platform)
    person = platform.person("nadia")
    engine = platform.engine
    with engine.begin() as conn:
        submit_kyc(conn, person, KycSubmission("Nadia", "AE", "passport", "P99887766"), CIPHER)
        register_business(conn, platform.issuer, NewBusiness("Olive Groves LLC", "REG-OLIVE",
                                                             "AE", "agriculture", "5"))
        deposit(conn, platform.admin, platform.issuer.email, "10000")
        submit_deposit(conn, platform.admin, platform.issuer.email, "25000",  # a four-eyes request
                       threshold=Decimal("10000"))
        dividend = declare(conn, platform.issuer, NewDividend("DATE", "fiat", per_token_usd="0.25"),
                           fee_pct="1.00")
        submit(conn, platform.issuer, str(dividend.id))
    platform.draft_token("PALM")
    deploy_token(engine, platform.admin, "PALM", chain_client)
    with engine.begin() as conn:
        start_offering(conn, platform.admin, "PALM")
    investor = platform.approved("karim", wallet=wallet_for("karim"), fiat="5000")
    with engine.begin() as conn:
        subscribe(conn, investor, "PALM", 50)
        _market_events(conn)


def alert_on_first_trade(conn, symbol: str) -> str:  # noqa: ANN001
    """A wash-trading alert naming the token's first trade, as the server's detector stores one
    (the engine's trade event: taker and maker orders and users); returns its id."""
    token_id = conn.execute(text("SELECT id FROM tokens WHERE symbol = :s"), {"s": symbol}).scalar_one()
    trade = conn.execute(text("SELECT * FROM trades WHERE token_id = :t ORDER BY created_at, id"
                              " LIMIT 1"), {"t": token_id}).one()
    taker_buys = trade.taker_side == "buy"
    taker, maker = ((trade.buy_order_id, trade.sell_order_id) if taker_buys
                    else (trade.sell_order_id, trade.buy_order_id))
    taker_user, maker_user = ((trade.buyer_id, trade.seller_id) if taker_buys
                              else (trade.seller_id, trade.buyer_id))
    event = ["trade", 1, str(taker), str(maker), str(taker_user), str(maker_user),
             trade.taker_side, 1000, trade.quantity, 0, 0]
    evidence = {"detail": "1 trade(s) with the same owner on both sides", "events": [event]}
    alert_id = new_id()
    conn.execute(text("INSERT INTO surveillance_alerts (id, token_id, kind, user_id, evidence)"
                      " VALUES (:id, :t, 'wash_trading', :u, CAST(:e AS jsonb))"),
                 {"id": alert_id, "t": token_id, "u": taker_user, "e": json.dumps(evidence)})
    return str(alert_id)


def _market_events(conn) -> None:  # noqa: ANN001
    """A surveillance alert on DATE's first trade, a tripped breaker and a failed mint (the server
    writes the first two, and the chain worker the last; here they are written directly)."""
    token_id = conn.execute(text("SELECT id FROM tokens WHERE symbol = 'DATE'")).scalar_one()
    now = datetime.now(UTC)
    alert_on_first_trade(conn, "DATE")
    conn.execute(text("INSERT INTO circuit_breaker_events (id, token_id, reference_price,"
                      " trigger_price, tripped_at, resets_at) VALUES (:id, :t, 10.00, 9.00, :now,"
                      " :later)"), {"id": new_id(), "t": token_id, "now": now,
                                    "later": now + timedelta(minutes=15)})
    conn.execute(text("UPDATE token_allocations SET on_chain_status = 'failed', on_chain_error ="
                      " 'investor has no wallet address' WHERE id = (SELECT id FROM token_allocations"
                      " WHERE token_id = :t AND allocation_type = 'primary' ORDER BY id LIMIT 1)"),
                 {"t": token_id})
