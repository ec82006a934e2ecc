"""Load on `alefctl serve`: accepted orders/s and p50/p99 latency, group commit vs one
transaction per order, side by side in one run.

A fresh embedded database and chain get one live token and N investors (KYC level 3, $50,000
and 1,000 tokens each). For each mode a real `alefctl serve` subprocess is started and C
concurrent investors send limit orders around $10 (70%), market orders (10%) and cancels of
their own open orders (20%) for D seconds, over HTTP on loopback.

Usage: python bench/serve_load.py [--investors 40] [--concurrency 40] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx


def build_platform(home: Path, investors: int) -> list[str]:
    """A live token BENCH with funded investors; returns their API keys."""
    os.environ["ALEF_HOME"] = str(home)
    from eth_utils import keccak, to_checksum_address

    from alefctl.chain_access import open_chain
    from alefctl.db import connect
    from alefctl.db.guard import ensure_schema_current
    from alefctl.pii import load_cipher
    from alefctl.settings import load_settings
    from alefctl.workflows import businesses, kyc, lifecycle, offering, tokens, users, wallet
    from alefctl.workflows.actor import resolve_actor
    from alefctl.workflows.api_keys import create_api_key
    from alefctl.workflows.deploy import deploy_token

    settings = load_settings()
    db = connect(settings)
    ensure_schema_current(db, settings)
    cipher = load_cipher(settings)

    def actor(email: str):  # noqa: ANN202
        with db.begin() as conn:
            return resolve_actor(conn, email, "cli")

    operator = actor(None)  # type: ignore[arg-type]
    people = ["issuer", "reviewer"] + [f"inv{i}" for i in range(investors)]
    with db.begin() as conn:
        for name in people:
            role = {"issuer": "issuer", "reviewer": "kyc_reviewer"}.get(name, "investor")
            wallet_address = None if role != "investor" else to_checksum_address(
                keccak(text=f"bench:{name}")[-20:])
            users.create_user(conn, operator, users.NewUser(f"{name}@bench.io", name, role,
                                                            wallet_address, "AE"))
    reviewer = actor("reviewer@bench.io")
    for name in [p for p in people if p != "reviewer"]:
        with db.begin() as conn:
            app = kyc.submit_kyc(conn, actor(f"{name}@bench.io"), kyc.KycSubmission(
                name, "AE", "passport", f"P{name}"), cipher)
            kyc.review_kyc(conn, reviewer, str(app.id), approve=True, kyc_level=3)
            if name != "issuer":
                wallet.deposit(conn, operator, f"{name}@bench.io", "60000")
    issuer = actor("issuer@bench.io")
    with db.begin() as conn:
        business = businesses.register_business(conn, issuer, businesses.NewBusiness(
            "Bench Co", "B-1", "AE", "bench", "0"))
        businesses.review_business(conn, operator, str(business.id), approve=True)
        tokens.create_token(conn, issuer, tokens.NewToken(
            str(business.id), "Bench", "BENCH", 1_000_000, "10.00", "100"), 50)
    with open_chain(settings) as client:
        deploy_token(db, operator, "BENCH", client)
    with db.begin() as conn:
        lifecycle.start_offering(conn, operator, "BENCH")
    for i in range(investors):
        with db.begin() as conn:
            offering.subscribe(conn, actor(f"inv{i}@bench.io"), "BENCH", 1000)
    keys = []
    with db.begin() as conn:
        offering.confirm_payments(conn, operator, "BENCH")
        lifecycle.enable_secondary(conn, operator, "BENCH", Decimal("0"))
        for i in range(investors):
            keys.append(create_api_key(conn, operator, f"inv{i}@bench.io", "bench")[1])
    db.dispose()
    return keys


def start_server(home: Path, port: int, grouped: bool) -> subprocess.Popen:
    """`alefctl serve` in a subprocess, ready to take orders."""
    env = {**os.environ, "ALEF_HOME": str(home), "ALEF_SERVER_GROUP_COMMIT": str(grouped).lower(),
           "ALEF_SERVER_SETTLEMENT_LOOP": "false"}  # measure the order path alone
    server = subprocess.Popen([sys.executable, "-m", "alefctl", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        time.sleep(0.2)
    server.kill()
    raise SystemExit("alefctl serve did not become ready")


async def investor_loop(http: httpx.AsyncClient, key: str, until: float, seed: int,
                        latencies: list[float], outcomes: dict[str, int]) -> None:
    """One investor: orders and cancels until the deadline."""
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {key}"}
    open_ids: list[str] = []
    while time.monotonic() < until:
        roll = rng.random()
        if roll < 0.2 and open_ids:
            request = http.delete(f"/api/v1/orders/{open_ids.pop(rng.randrange(len(open_ids)))}",
                                  headers=headers)
        else:
            side = rng.choice(("buy", "sell"))
            body = {"token_id": "BENCH", "side": side, "quantity": rng.randint(1, 5)}
            if roll < 0.3:
                body["order_type"] = "market"
            else:
                offset = rng.randint(1, 50) * (-1 if side == "buy" else 1) + rng.randint(-10, 10)
                body.update(order_type="limit", price=str(Decimal(1000 + offset) / 100))
            request = http.post("/api/v1/orders", headers=headers, json=body)
        started = time.perf_counter()
        response = await request
        latencies.append(time.perf_counter() - started)
        kind = "ok" if response.status_code < 400 else f"http {response.status_code}"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if response.status_code == 201 and response.json().get("status") == "open":
            open_ids.append(response.json()["id"])


async def drive(port: int, keys: list[str], concurrency: int, seconds: float) -> dict:
    """Run the load; return the figures."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                 timeout=30) as http:
        until = time.monotonic() + seconds
        start = time.monotonic()
        await asyncio.gather(*(investor_loop(http, keys[i % len(keys)], until, i, latencies,
                                             outcomes) for i in range(concurrency)))
        elapsed = time.monotonic() - start
        metrics = (await http.get("/metrics")).text
    sizes = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
             if line.startswith("alef_order_group_size_")}
    groups = sizes.get("alef_order_group_size_count", 0) or 1
    quantiles = statistics.quantiles(latencies, n=100)
    return {"accepted_per_s": outcomes.get("ok", 0) / elapsed, "requests": len(latencies),
            "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000, "outcomes": outcomes,
            "group": sizes.get("alef_order_group_size_sum", 0) / groups}


def drive_writer(home: Path, keys_count: int, orders: int, grouped: bool) -> float:
    """Orders/s through the order writer alone (no HTTP): what the database allows."""
    import concurrent.futures

    from alefctl.db import connect
    from alefctl.server.writer import OrderWriter
    from alefctl.settings import load_settings
    from alefctl.workflows.actor import resolve_actor
    from alefctl.workflows.orders import OrderRequest
    from alefctl.workflows.trading.funds import NotionalLimits
    from alefctl.workflows.trading.group import PlaceOrder

    settings = load_settings(home=home)
    db = connect(settings)
    with db.begin() as conn:
        actors = [resolve_actor(conn, f"inv{i}@bench.io", "api") for i in range(keys_count)]
    writer = OrderWriter(db, NotionalLimits.from_settings(settings.trading), lambda _: None,
                         grouped=grouped)
    writer.start()
    rng = random.Random(7)
    start = time.perf_counter()
    futures = []
    for n in range(orders):
        side = rng.choice(("buy", "sell"))
        offset = rng.randint(1, 50) * (-1 if side == "buy" else 1) + rng.randint(-10, 10)
        request = OrderRequest("BENCH", side, "limit", rng.randint(1, 3),
                               Decimal(1000 + offset) / 100)
        futures.append(writer.submit(PlaceOrder(actors[n % len(actors)], request)))
    concurrent.futures.wait(futures)
    elapsed = time.perf_counter() - start
    writer.stop()
    db.dispose()
    return orders / elapsed


def main() -> None:
    """Build, run both modes, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--investors", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--writer-orders", type=int, default=2000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="alef-serve-bench-"))
    try:
        keys = build_platform(home, args.investors)
        results = {}
        writer_rates = {grouped: drive_writer(home, args.investors, args.writer_orders, grouped)
                        for grouped in (False, True)}
        for grouped in (False, True):
            server = start_server(home, args.port, grouped)
            try:
                results[grouped] = asyncio.run(drive(args.port, keys, args.concurrency,
                                                     args.seconds))
            finally:
                server.terminate()
                server.wait(timeout=30)
    finally:
        subprocess.run([sys.executable, "-m", "alefctl", "db", "stop"],
                       env={**os.environ, "ALEF_HOME": str(home)}, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    print(f"{'mode':28} {'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}"
          f" {'orders/commit':>14}")
    for grouped, label in ((False, "one transaction per order"), (True, "group commit")):
        r = results[grouped]
        print(f"{label:28} {r['accepted_per_s']:11.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}"
              f" {r['requests']:9d} {r['group']:14.1f}")
    print(f"order writer alone (no HTTP), {args.writer_orders} limit orders:"
          f" one transaction per order {writer_rates[False]:.0f}/s,"
          f" group commit {writer_rates[True]:.0f}/s"
          f" ({writer_rates[True] / writer_rates[False]:.1f}x)")
    print(f"HTTP speed-up: {results[True]['accepted_per_s'] / results[False]['accepted_per_s']:.1f}x;"
          f" outcomes grouped {results[True]['outcomes']}, single {results[False]['outcomes']}")


if __name__ == "__main__":
    main()
