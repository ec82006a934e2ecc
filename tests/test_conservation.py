"""A randomized run of concurrent investors: money and tokens add up exactly afterwards."""

from __future__ import annotations

import random
import threading
from decimal import Decimal

from platform_builders import live_token
from server_client import place
from sqlalchemy import text

INVESTORS = ("alice", "bob", "carol", "dave", "erin", "frank")


def _random_orders(api, name: str, seed: int, count: int, placed: list) -> None:  # noqa: ANN001
    rng = random.Random(seed)
    mine: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.2 and mine:
            api.call("DELETE", f"/api/v1/orders/{mine.pop()}", f"{name}@x.io")
            continue
        side = rng.choice(("buy", "sell"))
        kind = "market" if roll < 0.3 else rng.choice(("limit", "limit", "limit", "stop_limit"))
        extra = {}
        price = f"{rng.randint(950, 1050) / 100:.2f}" if kind != "market" else None
        if kind == "stop_limit":
            extra["stop_price"] = price
        response = place(api, name, side, rng.randint(1, 8), price, kind,
                         time_in_force=rng.choice(("GTC", "GTC", "IOC", "FOK")) if kind == "limit"
                         else "GTC", confirm_fat_finger=True, confirm_nav_deviation=True,
                         self_trade_prevention=rng.choice(("none", "cancel_taker", "cancel_maker",
                                                           "cancel_both")), **extra)
        assert response.status_code < 500, response.text
        placed.append(response.status_code)
        if response.status_code == 201 and response.json()["status"] in ("open", "pending_stop"):
            mine.append(response.json()["id"])


def test_concurrent_random_trading_conserves_money_and_tokens(platform, chain_client, api) -> None:  # noqa: ANN001
    live_token(platform, chain_client, "DATE", {name: 200 for name in INVESTORS})
    with platform.engine.connect() as conn:
        before = conn.execute(text("SELECT sum(fiat_balance) FROM users")).scalar_one()
    placed: list[int] = []
    threads = [threading.Thread(target=_random_orders, args=(api, name, seed, 40, placed))
               for seed, name in enumerate(INVESTORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert placed.count(201) > 50
    with platform.engine.connect() as conn:
        fiat = conn.execute(text(
            "SELECT (SELECT sum(fiat_balance) FROM users) + (SELECT coalesce(sum(locked_fiat), 0)"
            " FROM orders WHERE status IN ('open', 'partially_filled', 'pending_stop'))"
            " + (SELECT sum(escrow_balance) FROM tokens)")).scalar_one()
        supply = conn.execute(text("SELECT sum(balance) FROM wallets")).scalar_one()
        minted = conn.execute(text("SELECT sum(quantity) FROM token_allocations"
                                   " WHERE status = 'confirmed'")).scalar_one()
        locked = conn.execute(text("SELECT sum(locked_balance) FROM wallets")).scalar_one()
        open_sells = conn.execute(text(
            "SELECT coalesce(sum(locked_quantity), 0) FROM orders WHERE side = 'sell' AND"
            " status IN ('open', 'partially_filled', 'pending_stop')")).scalar_one()
        unfunded = conn.execute(text(
            "SELECT count(*) FROM orders WHERE side = 'buy' AND order_type = 'limit'"
            " AND status IN ('open', 'partially_filled') AND locked_fiat <> price *"
            " (quantity - filled_quantity)")).scalar_one()
        trades = conn.execute(text("SELECT count(*) FROM trades")).scalar_one()
    assert trades > 0
    assert fiat == before  # nothing deposited or withdrawn during the run: every cent is kept
    assert supply == minted and locked == open_sells and unfunded == 0
    from alefctl.workflows.invariants import run_checks

    with platform.engine.connect() as conn:
        violations = [c for c in run_checks(conn, platform.admin) if not c.ok]
    assert violations == []
    assert isinstance(before, Decimal)
