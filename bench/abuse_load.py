"""One client floods, the others trade: the normal traders' p50/p99 with and without the flooder,
with the rate limits on and off.

A fresh platform as in bench/serve_load.py (one live token, funded investors). N traders send
serve_load's mix (limit orders around $10, market orders, cancels of their own) at a steady rate
each (open loop: latency counts from each request's scheduled time). The flooder, one more
investor with one API key, sends as fast as its connections allow: valid orders just off the
market, bodies that are not JSON, and orders with numbers the edge refuses (an exponent, a
quantity past 2^63), from a process of its own. On one `alefctl serve` per setting:

  limits off, traders alone   -> the order path without the rate-limit check
  limits on,  traders alone   -> its cost
  limits on,  with the flooder -> what the traders see under the flood (the figure that counts)
  limits off, with the flooder -> what the limits spare them

Each setting runs twice, alternating with and without the flooder, after a warm-up run, so that
the noise of a shared machine falls on both; each run's figures are printed.

Usage: python bench/abuse_load.py [--traders 10] [--rate 20] [--flood-connections 4]
                                  [--seconds 10] [--repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time

import httpx
from serve_load import HttpConnection, Investor, fresh_platform, no_collector_pauses, start_server

MALFORMED = [b"{side", b'{"token_id": "BENCH", "side": "buy", "quantity": 1, "price": 1e1}',
             b'{"token_id": "BENCH", "side": "buy", "quantity": 9223372036854775808,'
             b' "price": "1.00"}', b'{"token_id": "BENCH", "side": "sell", "quantity": 1,'
             b' "price": "1E+400"}']


async def raw_post(connection: HttpConnection, body: bytes) -> int:
    """POST a raw body to /api/v1/orders; returns the status."""
    connection.writer.write(b"POST /api/v1/orders HTTP/1.1\r\n%sContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (connection.headers, len(body), body))
    head = await connection.reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    await connection.reader.readexactly(length)
    return int(head[9:12])


async def flood(port: int, key: str, connections: int, seconds: float) -> dict[int, int]:
    """The flooder: closed loop on each connection, half valid orders just off the market (they
    rest, or trade), half malformed; returns its answers by status."""
    statuses: dict[int, int] = {}
    until = time.monotonic() + seconds

    async def one_connection(seed: int) -> None:
        connection = await HttpConnection.open(port, key)
        rng = random.Random(seed)
        while time.monotonic() < until:
            if rng.random() < 0.5:
                side = rng.choice(("buy", "sell"))
                status, _ = await connection.request("POST", "/api/v1/orders", {
                    "token_id": "BENCH", "side": side, "quantity": 1,
                    "price": "9.50" if side == "buy" else "10.50"})
            else:
                status = await raw_post(connection, rng.choice(MALFORMED))
            statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    await asyncio.gather(*(one_connection(n) for n in range(connections)))
    return statuses


def flood_process(port: int, key: str, connections: int, seconds: float,
                  answers: multiprocessing.Queue) -> None:
    """The flooder in a process of its own, so that its loop does not delay the traders' sends
    (a client sharing one event loop with the flood measured its own backlog)."""
    answers.put(asyncio.run(flood(port, key, connections, seconds)))


async def trade(port: int, keys: list[str], rate: float, seconds: float,
                first_seed: int) -> tuple[list[float], dict]:
    """The normal traders: each sends at `rate` requests/s on its own connection; latency from
    each request's scheduled time. Seeds differ per run: a client_order_id sent again would be
    answered as a retry."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    until = time.monotonic() + seconds

    async def one_trader(n: int, key: str) -> None:
        investor = Investor(await HttpConnection.open(port, key), first_seed + n)
        start = time.perf_counter() + n / (rate * len(keys))  # spread the traders' schedules
        sent = 0
        while time.monotonic() < until:
            scheduled = start + sent / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            status = await investor.act()
            latencies.append(time.perf_counter() - scheduled)
            statuses[status] = statuses.get(status, 0) + 1
            sent += 1
        investor.connection.close()

    await asyncio.gather(*(one_trader(n, key) for n, key in enumerate(keys)))
    return latencies, statuses


def check_figures(port: int) -> tuple[float, float]:
    """The server's rate-limit statements so far: (count, total seconds), from /metrics."""
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
              if line.startswith("alef_rate_limit_check_seconds_")}
    return (values.get("alef_rate_limit_check_seconds_count", 0.0),
            values.get("alef_rate_limit_check_seconds_sum", 0.0))


def run(args: argparse.Namespace, keys: list[str], flooder: str | None, first_seed: int) -> dict:
    """One run: the traders for args.seconds, with the flooder (started a second before, ending
    a second after) if given."""
    checks_before = check_figures(args.port)
    answers: multiprocessing.Queue = multiprocessing.Queue()
    process = None
    if flooder:
        process = multiprocessing.Process(target=flood_process, args=(
            args.port, flooder, args.flood_connections, args.seconds + 2, answers))
        process.start()
        time.sleep(1)
    latencies, statuses = asyncio.run(trade(args.port, keys, args.rate, args.seconds, first_seed))
    flooded = {}
    if process is not None:
        flooded = answers.get(timeout=60)
        process.join()
    latencies.sort()
    count, total = (after - before for after, before in zip(check_figures(args.port),
                                                             checks_before, strict=True))
    return {"checks": count, "check_ms": total / count * 1000 if count else 0.0,
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "requests": len(latencies), "statuses": dict(sorted(statuses.items())),
            "flood": dict(sorted(flooded.items()))}


def main() -> None:
    """Four runs on one platform; print the traders' latency in each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--traders", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20, help="requests/s of each trader")
    parser.add_argument("--flood-connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()
    results: dict[tuple[bool, bool], list[dict]] = {}
    seeds = iter(range(10_000, 10**9, 1000))
    with fresh_platform(args.traders + 1) as (home, keys):
        traders, flooder = keys[:-1], keys[-1]
        for limits in (False, True):  # the limits at their defaults (settings.ratelimit)
            server = start_server(home, args.port, grouped=True, env={
                "ALEF_RATELIMIT_ENABLED": str(limits).lower()})
            try:
                with no_collector_pauses():
                    run(args, traders, None, next(seeds))  # warm up, not counted
                    for _ in range(args.repeats):  # alternated, so that noise falls on both
                        for with_flooder in (False, True):
                            results.setdefault((limits, with_flooder), []).append(
                                run(args, traders, flooder if with_flooder else None, next(seeds)))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(f"{args.traders} traders at {args.rate:.0f} requests/s each, {args.seconds:.0f} s per run,"
          f" {args.repeats} runs each; the flooder on {args.flood_connections} connections,"
          " closed loop, in a process of its own")
    print(f"{'run':34} {'p50 ms':>14} {'p99 ms':>14} {'requests':>9}  flooder's answers")
    for limits, with_flooder in ((False, False), (True, False), (True, True), (False, True)):
        runs = results[limits, with_flooder]
        who = "with the flooder" if with_flooder else "traders alone"
        label = f"limits {'on ' if limits else 'off'}, {who}"
        p50 = " ".join(f"{r['p50']:.1f}" for r in runs)
        p99 = " ".join(f"{r['p99']:.1f}" for r in runs)
        flood_answers: dict[int, int] = {}
        for r in runs:
            for status, count in r["flood"].items():
                flood_answers[status] = flood_answers.get(status, 0) + count
        print(f"{label:34} {p50:>14} {p99:>14} {sum(r['requests'] for r in runs):9d}"
              f"  {dict(sorted(flood_answers.items())) or '-'}")
    checks = [r for (limits, _), runs in results.items() if limits for r in runs]
    statements = sum(r["checks"] for r in checks)
    mean_ms = sum(r["checks"] * r["check_ms"] for r in checks) / max(statements, 1)
    print(f"rate-limit statements with the limits on: {statements:.0f}, {mean_ms:.2f} ms each on"
          " average (what a request waits for its check, beside its own work)")
    print("traders' answers by status: " + "; ".join(
        f"limits {'on' if k[0] else 'off'}{' + flood' if k[1] else ''} {runs[0]['statuses']}"
        for k, runs in results.items()))


if __name__ == "__main__":
    main()
