"""One client floods, the others trade: the normal traders' p50/p99 with and without the flooder,
with the rate limits on and off.

A fresh platform as in bench/serve_load.py (one live token, funded investors). N traders send
serve_load's mix (limit orders around $10, market orders, cancels of their own) at a steady rate
each (open loop: latency counts from each request's scheduled time). The flooder, one more
investor with one API key, sends as fast as its connections allow: valid orders far from the
market, bodies that are not JSON, and orders with numbers the edge refuses (an exponent, a
quantity past 2^63). Four runs on one `alefctl serve` per setting:

  limits off, traders alone   -> the order path without the rate-limit check
  limits on,  traders alone   -> its cost
  limits on,  with the flooder -> what the traders see under the flood (the figure that counts)
  limits off, with the flooder -> what the limits spare them

Usage: python bench/abuse_load.py [--traders 10] [--rate 20] [--flood-connections 4]
                                  [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

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


async def flood(port: int, key: str, connections: int, until: float) -> dict[int, int]:
    """The flooder: closed loop on each connection, half valid orders far from the market (they
    rest), half malformed; returns its answers by status."""
    statuses: dict[int, int] = {}

    async def one_connection(seed: int) -> None:
        connection = await HttpConnection.open(port, key)
        rng = random.Random(seed)
        while time.monotonic() < until:
            if rng.random() < 0.5:
                status, _ = await connection.request("POST", "/api/v1/orders", {
                    "token_id": "BENCH", "side": "buy", "quantity": 1, "price": "1.00"})
            else:
                status = await raw_post(connection, rng.choice(MALFORMED))
            statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    await asyncio.gather(*(one_connection(n) for n in range(connections)))
    return statuses


async def trade(port: int, keys: list[str], rate: float, until: float) -> tuple[list[float], dict]:
    """The normal traders: each sends at `rate` requests/s on its own connection; latency from
    each request's scheduled time."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def one_trader(n: int, key: str) -> None:
        investor = Investor(await HttpConnection.open(port, key), 5000 + n)
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


async def run(args: argparse.Namespace, keys: list[str], flooder: str | None) -> dict:
    """One run: the traders, and the flooder if given, for args.seconds."""
    until = time.monotonic() + args.seconds
    flooding = (flood(args.port, flooder, args.flood_connections, until) if flooder
                else asyncio.sleep(0, {}))
    (latencies, statuses), flooded = await asyncio.gather(
        trade(args.port, keys, args.rate, until), flooding)
    latencies.sort()
    return {"p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            "requests": len(latencies), "statuses": dict(sorted(statuses.items())),
            "flood": dict(sorted(flooded.items()))}


def main() -> None:
    """Four runs on one platform; print the traders' latency in each."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--traders", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20, help="requests/s of each trader")
    parser.add_argument("--flood-connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()
    results = {}
    with fresh_platform(args.traders + 1) as (home, keys):
        traders, flooder = keys[:-1], keys[-1]
        for limits in (False, True):  # the limits at their defaults (settings.ratelimit)
            server = start_server(home, args.port, grouped=True, env={
                "ALEF_RATELIMIT_ENABLED": str(limits).lower()})
            try:
                with no_collector_pauses():
                    for with_flooder in (False, True):
                        results[limits, with_flooder] = asyncio.run(
                            run(args, traders, flooder if with_flooder else None))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print(f"{args.traders} traders at {args.rate:.0f} requests/s each, {args.seconds:.0f} s per run;"
          f" the flooder on {args.flood_connections} connections, closed loop")
    print(f"{'run':34} {'p50 ms':>7} {'p99 ms':>7} {'requests':>9}  flooder's answers")
    for limits, with_flooder in ((False, False), (True, False), (True, True), (False, True)):
        r = results[limits, with_flooder]
        label = f"limits {'on ' if limits else 'off'}, {'with the flooder' if with_flooder else 'traders alone'}"
        print(f"{label:34} {r['p50']:7.1f} {r['p99']:7.1f} {r['requests']:9d}  {r['flood'] or '-'}")
    print("traders' answers by status: " + "; ".join(
        f"limits {'on' if k[0] else 'off'}{' + flood' if k[1] else ''} {r['statuses']}"
        for k, r in results.items()))


if __name__ == "__main__":
    main()
