"""Load on `alefctl serve`: accepted orders/s and p50/p99 latency, group commit vs one
transaction per order, side by side in one run.

A fresh embedded database and chain get one live token and N investors (KYC level 3, $50,000
and 1,000 tokens each). For each mode a real `alefctl serve` subprocess is started and
investors send limit orders around $10 (70%), market orders (10%) and cancels of their own open
orders (20%) for D seconds, over HTTP on loopback. Each order carries a client_order_id, as a
trading client's would, so every group also checks for resent orders.

Two kinds of load, each on a fresh platform: closed loop (each investor sends its next request
when the last is answered: the most the server sustains) for both modes, then open loop for
group commit (requests arrive at 5x the single rate whatever the answers; latency counts from
each request's scheduled time, so a queue cannot hide). The load generator is a lean HTTP/1.1
client on keep-alive connections: a general-purpose client costs more CPU per request than the
server, and it shares the server's cores.

Each run also counts the server's COMMITs that took over 50 ms (from /metrics): on a virtual
disk, the fsync of the write-ahead log stalls now and then for tens to hundreds of ms, and
every order behind a stalled commit waits for it, whatever the order path does.

The open loop keeps --connections keep-alive connections (default 200), so that in-flight
requests are not capped by the client: a request waits for a free connection only if that
many are already outstanding, and that wait counts in its latency.

Usage: python bench/serve_load.py [--investors 40] [--concurrency 40] [--connections 200]
                                  [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
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
    from alefctl.workflows.onchain.deploy import deploy_token

    # the database, its schema and the first admin, whose saved key `serve` acts with
    subprocess.run([sys.executable, "-m", "alefctl", "db", "init"], check=True,
                   stdout=subprocess.DEVNULL)
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


# The investors of a load run send far more than a trader's rate: the rate limits are checked
# on every request (their cost is measured) but set too high to refuse any.
UNLIMITED = {"ALEF_RATELIMIT_ORDERS_PER_S": "1000000", "ALEF_RATELIMIT_READS_PER_S": "1000000"}
# The traders buy all day: their 12-month investment limit is not what is measured.
INVESTING_ALL_DAY = {"ALEF_TRADING_LIMIT_INSTITUTIONAL_USD": "1000000000"}


def start_server(home: Path, port: int, grouped: bool,
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    """`alefctl serve` in a subprocess, ready to take orders; `env` adds settings (default:
    rate limits no load run reaches)."""
    env = {**os.environ, "ALEF_HOME": str(home), "ALEF_SERVER_GROUP_COMMIT": str(grouped).lower(),
           "ALEF_SERVER_SETTLEMENT_LOOP": "false",  # measure the order path alone
           **INVESTING_ALL_DAY, **(UNLIMITED if env is None else env)}
    server = subprocess.Popen([sys.executable, "-m", "alefctl", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL,
                              stderr=(home / "serve.log").open("wb"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        time.sleep(0.2)
    server.kill()
    log = (home / "serve.log").read_text(errors="replace")[-2000:]
    raise SystemExit(f"alefctl serve did not become ready:\n{log}")


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator must be (a general
    client costs more CPU per request than the server on a 2-core machine)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str):
        self.reader, self.writer = reader, writer
        self.headers = f"Host: bench\r\nAuthorization: Bearer {key}\r\n".encode()

    @classmethod
    async def open(cls, port: int, key: str) -> HttpConnection:
        """Connect to the server on loopback."""
        return cls(*await asyncio.open_connection("127.0.0.1", port), key)

    async def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """Send one request and read its response: (status, JSON body)."""
        payload = b"" if body is None else json.dumps(body).encode()
        self.writer.write(b"%s %s HTTP/1.1\r\n%sContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (
                              method.encode(), path.encode(), self.headers, len(payload), payload))
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        return int(head[9:12]), json.loads(await self.reader.readexactly(length))

    def close(self) -> None:
        """Hang up."""
        self.writer.close()


class Investor:
    """One investor's random mix: limit orders around $10 (70%), market orders (10%), cancels of
    their own open orders (20%); each order with a client_order_id of its own."""

    def __init__(self, connection: HttpConnection, seed: int):
        self.connection = connection
        self.rng = random.Random(seed)
        self.open_ids: list[str] = []
        self.seed, self.sent = seed, 0

    async def act(self) -> int:
        """Send the next request; returns its HTTP status."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.2 and self.open_ids:
            order_id = self.open_ids.pop(rng.randrange(len(self.open_ids)))
            status, _ = await self.connection.request("DELETE", f"/api/v1/orders/{order_id}")
            return status
        side = rng.choice(("buy", "sell"))
        body: dict = {"token_id": "BENCH", "side": side, "quantity": rng.randint(1, 5)}
        self.sent += 1
        body["client_order_id"] = f"{self.seed}-{self.sent}"  # as a trading client tags orders
        if roll < 0.3:
            body["order_type"] = "market"
        else:
            offset = rng.randint(1, 50) * (-1 if side == "buy" else 1) + rng.randint(-10, 10)
            body.update(order_type="limit", price=str(Decimal(1000 + offset) / 100))
        status, order = await self.connection.request("POST", "/api/v1/orders", body)
        if status == 201 and order.get("status") == "open":
            self.open_ids.append(order["id"])
        return status


def figures(latencies: list[float], statuses: dict[int, int], elapsed: float) -> dict:
    """Accepted orders/s and latency percentiles of one run."""
    quantiles = statistics.quantiles(latencies, n=100)
    accepted = sum(n for status, n in statuses.items() if status < 400)
    return {"accepted_per_s": accepted / elapsed, "requests": len(latencies),
            "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000,
            "outcomes": dict(sorted(statuses.items()))}


async def saturate(port: int, keys: list[str], concurrency: int, seconds: float) -> dict:
    """Closed loop: each investor sends its next request as soon as the last one is answered;
    gives the most the server sustains."""
    investors = [Investor(await HttpConnection.open(port, keys[i % len(keys)]), i)
                 for i in range(concurrency)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    until = time.monotonic() + seconds

    async def run(investor: Investor) -> None:
        while time.monotonic() < until:
            started = time.perf_counter()
            status = await investor.act()
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    start = time.monotonic()
    await asyncio.gather(*(run(investor) for investor in investors))
    elapsed = time.monotonic() - start
    for investor in investors:
        investor.connection.close()
    return figures(latencies, statuses, elapsed) | await server_figures(port)


async def paced(port: int, keys: list[str], connections: int, rate: float, seconds: float) -> dict:
    """Open loop: requests arrive at a fixed rate whatever the answers, and each latency counts
    from the request's scheduled time (a slow server cannot hide its queue). Gives the latency
    at a given load."""
    idle: asyncio.Queue[Investor] = asyncio.Queue()
    for i in range(connections):
        idle.put_nowait(Investor(await HttpConnection.open(port, keys[i % len(keys)]), 1000 + i))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def one(scheduled: float) -> None:
        investor = await idle.get()
        status = await investor.act()
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        idle.put_nowait(investor)

    # Only the requests in flight are awaited at the end: gathering every request of the run
    # stalled the generator while the last ones were answered.
    in_flight: set[asyncio.Future[None]] = set()
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.ensure_future(one(scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().connection.close()
    return figures(latencies, statuses, elapsed) | await server_figures(port)


async def server_figures(port: int) -> dict:
    """From the server's /metrics since it started: mean orders per committed transaction, and
    the COMMITs that took over 50 ms (the database's WAL flush: a virtual disk's fsync stalls,
    up to hundreds of ms, hold up every order behind them past the p99 target)."""
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
              if line.startswith(("alef_order_group_size_", "alef_order_commit_seconds_"))}
    groups = values.get("alef_order_group_size_count") or 1
    commits = values.get("alef_order_commit_seconds_count", 0)
    fast = values.get('alef_order_commit_seconds_bucket{le="0.05"}', commits)
    return {"group": values.get("alef_order_group_size_sum", 0) / groups,
            "slow_commits": int(commits - fast)}


def drive_writer(home: Path, keys_count: int, orders: int, grouped: bool) -> float:
    """Orders/s through the order writer alone (no HTTP): what the database allows."""
    import concurrent.futures

    from alefctl.db import connect
    from alefctl.server.writer import OrderWriter
    from alefctl.settings import load_settings
    from alefctl.workflows.actor import resolve_actor
    from alefctl.workflows.orders import OrderRequest
    from alefctl.workflows.trading.commands import PlaceOrder
    from alefctl.workflows.trading.funds import NotionalLimits

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


@contextlib.contextmanager
def fresh_platform(investors: int) -> Iterator[tuple[Path, list[str]]]:
    """A new embedded database and chain with the bench platform, removed afterwards (every
    measurement starts from the same book)."""
    home = Path(tempfile.mkdtemp(prefix="alef-serve-bench-"))
    try:
        yield home, build_platform(home, investors)
    finally:
        subprocess.run([sys.executable, "-m", "alefctl", "db", "stop"],
                       env={**os.environ, "ALEF_HOME": str(home)}, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def no_collector_pauses() -> Iterator[None]:
    """The load generator without its cyclic garbage collector: its full collections, over the
    tasks of a long run, stalled it for 100 ms and more, late requests counted against the
    server (a run's garbage is small, and collected afterwards)."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


def measure(args: argparse.Namespace, grouped: bool, load: Callable[[list[str]], Awaitable[dict]]) -> dict:
    """One load against a server of one mode on a fresh platform."""
    with fresh_platform(args.investors) as (home, keys):
        server = start_server(home, args.port, grouped)
        try:
            with no_collector_pauses():
                return asyncio.run(load(keys))
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    """Measure both modes at saturation, then group commit at 5x the single rate; print tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--investors", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--writer-orders", type=int, default=2000)
    args = parser.parse_args()
    writer_rates = {}
    for grouped in (False, True):
        with fresh_platform(args.investors) as (home, _keys):
            writer_rates[grouped] = drive_writer(home, args.investors, args.writer_orders, grouped)
    saturated = {grouped: measure(args, grouped, lambda keys: saturate(
        args.port, keys, args.concurrency, args.seconds)) for grouped in (False, True)}
    target = 5 * saturated[False]["accepted_per_s"]
    at_target = measure(args, True, lambda keys: paced(
        args.port, keys, args.connections, target, args.seconds))

    print(f"closed loop, {args.concurrency} investors each waiting for its answer, {args.seconds:.0f} s:")
    print(f"{'mode':28} {'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}"
          f" {'orders/commit':>14} {'commits >50 ms':>15}")
    for grouped, label in ((False, "one transaction per order"), (True, "group commit")):
        r = saturated[grouped]
        print(f"{label:28} {r['accepted_per_s']:11.0f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f}"
              f" {r['requests']:9d} {r['group']:14.1f} {r['slow_commits']:15d}")
    speed_up = saturated[True]["accepted_per_s"] / saturated[False]["accepted_per_s"]
    print(f"group commit speed-up: {speed_up:.1f}x")
    print(f"open loop on {args.connections} connections, group commit offered {target:.0f}"
          " requests/s (5x the single rate):"
          f" accepted {at_target['accepted_per_s']:.0f}/s, p50 {at_target['p50_ms']:.1f} ms,"
          f" p99 {at_target['p99_ms']:.1f} ms, {at_target['group']:.1f} orders/commit,"
          f" {at_target['slow_commits']} commits over 50 ms")
    print(f"order writer alone (no HTTP), {args.writer_orders} limit orders:"
          f" one transaction per order {writer_rates[False]:.0f}/s,"
          f" group commit {writer_rates[True]:.0f}/s"
          f" ({writer_rates[True] / writer_rates[False]:.1f}x)")
    print("outcomes by HTTP status: " + "; ".join(
        f"{name} {r['outcomes']}" for name, r in (("single", saturated[False]),
                                                 ("grouped", saturated[True]),
                                                 ("paced", at_target))))


if __name__ == "__main__":
    main()
