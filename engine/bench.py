"""Benchmark: ``python -m engine.bench [--n N] [--seed S] [--mix standard|full|both]``.

Generates a seeded command stream, then times only the engine calls. Memory is measured in a
second, untimed pass under tracemalloc (which slows Python several-fold, so it never shares a
run with the timing): the peak of memory allocated while the book ran, plus samples showing
that memory follows the resting orders, not the number of commands processed.
"""

import argparse
import gc
import resource
import time
import tracemalloc
from collections import Counter

from engine.benchstream import apply_command, generate_commands
from engine.book import OrderBook


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


def time_commands(commands: list) -> tuple[float, int, OrderBook]:
    """Seconds spent in the engine for the whole stream, events produced, and the final book."""
    book = OrderBook()
    gc.collect()
    gc.freeze()  # the pre-built stream is the harness's data, not the engine's garbage
    started = time.perf_counter()
    event_count = run_commands(book, commands)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    return elapsed, event_count, book


def count_event_kinds(book: OrderBook, commands: list, kinds: Counter) -> None:
    """Feed commands to the book, counting events by kind (untimed passes only)."""
    for command in commands:
        kinds.update(event[0] for event in apply_command(book, command))


def measure_memory(commands: list, kinds: Counter, samples: int = 5) -> tuple[int, list]:
    """Peak traced bytes while running the stream, and (commands, open orders, bytes) samples."""
    book = OrderBook()
    step = max(1, len(commands) // samples)
    sampled = []
    tracemalloc.start()
    for start in range(0, len(commands), step):
        count_event_kinds(book, commands[start:start + step], kinds)
        resting, stops = book.open_order_count()
        sampled.append((start + step, resting + stops, tracemalloc.get_traced_memory()[0]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, sampled


def report(mix: str, n: int, seed: int, with_memory: bool) -> None:
    """Generate, time and measure one mix and print the figures."""
    commands = generate_commands(n, seed, mix)
    elapsed, event_count, book = time_commands(commands)
    resting, stops = book.open_order_count()
    print(f"mix={mix} commands={n:,} seed={seed}")
    print(f"  time {elapsed:.3f} s   {n / elapsed:,.0f} orders/s   {event_count:,} events")
    print(f"  final book: {resting:,} resting orders, {stops:,} pending stops, "
          f"last price {book.last_price}")
    if with_memory:
        kinds: Counter = Counter()
        peak, sampled = measure_memory(commands, kinds)
        print("  events: " + ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items())))
        print(f"  peak traced memory of the engine (separate tracemalloc pass): "
              f"{peak / 2**20:.1f} MiB")
        for done, open_orders, traced in sampled:
            print(f"    after {done:>9,} commands: {open_orders:>7,} open orders, "
                  f"{traced / 2**20:6.1f} MiB")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m engine.bench", description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="commands per mix")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--mix", choices=("standard", "full", "both"), default="both")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    mixes = ("standard", "full") if args.mix == "both" else (args.mix,)
    for mix in mixes:
        report(mix, args.n, args.seed, not args.no_memory)
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"process max RSS (includes the pre-built streams): {max_rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
