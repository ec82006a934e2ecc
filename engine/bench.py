"""Benchmark: ``python -m engine.bench [--n N] [--seed S] [--mix standard|full|both]``.

For each mix: generate a seeded stream (see ``engine.benchstream``), then time only the engine
calls (each command goes through ``OrderBook.submit`` / ``OrderBook.cancel`` one by one, events
built and returned as in production). The stream is copied into fresh, contiguous memory first
(the generator's own shadow book leaves it scattered, which costs the timed loop cache misses
a server decoding fresh requests would not have), one warm-up run on a separate book follows,
then ``--repeat`` timed runs on fresh books. Both wall-clock and process-CPU rates are printed:
on a shared machine the CPU figure is the steadier one. The first line says which engine ran:
the mypyc-compiled modules (``python -m engine.build``) or pure Python.

Memory is measured in a separate, untimed pass under tracemalloc (which slows Python several
times over, so it never shares a run with the timing): the peak of what the engine allocated
while it ran, and samples showing that it follows the open orders, not the commands processed.
"""

import argparse
import gc
import pickle
import resource
import statistics
import time
import tracemalloc
from collections import Counter
from itertools import islice

from engine.benchstream import apply_command, generate_commands
from engine.book import OrderBook
from engine.build import status


def run_commands(book: OrderBook, commands: list) -> int:
    """Feed every command to the book; return the number of events produced."""
    submit = book.submit
    cancel = book.cancel
    event_count = 0
    for command in commands:
        if command[0] is None:
            event_count += len(cancel(command[1]))
        else:
            event_count += len(submit(*command))
    return event_count


def time_commands(commands: list, repeat: int) -> tuple[list[tuple[float, float]], int, OrderBook]:
    """(wall, cpu) seconds of each timed run, events per run, and the last run's book."""
    gc.collect()
    gc.freeze()  # the pre-built stream is the harness's data, not the engine's garbage
    run_commands(OrderBook(), commands[:200_000])  # warm-up
    timings = []
    for _ in range(repeat):
        book = OrderBook()
        wall, cpu = time.perf_counter(), time.process_time()
        event_count = run_commands(book, commands)
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    gc.unfreeze()
    return timings, event_count, book


def measure_memory(commands: list, samples: int = 5) -> tuple[int, list, Counter]:
    """Peak traced bytes, (commands done, open orders, bytes) samples, and events by kind."""
    book = OrderBook()
    kinds: Counter = Counter()
    step = max(1, len(commands) // samples)
    sampled = []
    tracemalloc.start()
    for start in range(0, len(commands), step):
        for command in islice(commands, start, start + step):  # a slice would be traced
            kinds.update(event[0] for event in apply_command(book, command))
        resting, stops = book.open_order_count()
        sampled.append((start + step, resting + stops, tracemalloc.get_traced_memory()[0]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, sampled, kinds


def report(mix: str, n: int, seed: int, repeat: int, with_memory: bool) -> None:
    """Generate, time and measure one mix and print the figures."""
    commands = pickle.loads(pickle.dumps(generate_commands(n, seed, mix), protocol=5))
    timings, event_count, book = time_commands(commands, repeat)
    walls = [n / wall for wall, _ in timings]
    cpus = [n / cpu for _, cpu in timings]
    resting, stops = book.open_order_count()
    print(f"mix={mix} commands={n:,} seed={seed} runs={repeat}")
    print(f"  wall clock: median {statistics.median(walls):,.0f} orders/s "
          f"(runs: {', '.join(f'{rate:,.0f}' for rate in walls)})")
    print(f"  process CPU: median {statistics.median(cpus):,.0f} orders/s "
          f"(runs: {', '.join(f'{rate:,.0f}' for rate in cpus)})")
    print(f"  {event_count:,} events per run; final book: {resting:,} resting orders, "
          f"{stops:,} pending stops, last price {book.last_price}")
    if with_memory:
        peak, sampled, kinds = measure_memory(commands)
        print("  events: " + ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items())))
        print(f"  peak memory allocated by the engine (tracemalloc pass): {peak / 2**20:.1f} MiB")
        for done, open_orders, traced in sampled:
            print(f"    after {done:>9,} commands: {open_orders:>7,} open orders, "
                  f"{traced / 2**20:6.2f} MiB held")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m engine.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="commands per mix")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--mix", choices=("standard", "full", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per mix")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    mixes = ("standard", "full") if args.mix == "both" else (args.mix,)
    print(f"engine: {status()}")
    for mix in mixes:
        report(mix, args.n, args.seed, args.repeat, not args.no_memory)
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"process max RSS (mostly the pre-built streams): {max_rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
