"""Settlement throughput: forcedTransfer one by one versus batchForcedTransfer (10, 50, 100).

Prints gas per transfer and transfers per second (send + wait, end to end through the chain
client) on the embedded EVM and, when anvil is installed, on anvil.

    python bench/chain_settlement.py [--transfers 200] [--backends embedded,anvil]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

import chain
from chain import ChainClient

# Disjoint (seller, buyer) pairs, so a batch of 100 touches 200 distinct wallets as real
# settlement would, instead of re-using warm storage slots.
WALLETS = 200
BATCH_SIZES = (10, 50, 100)


@dataclass
class Row:
    backend: str
    mode: str
    transfers: int
    gas_per_transfer: float
    transfers_per_second: float


@contextmanager
def open_backend(name: str) -> Iterator[ChainClient]:
    """A client on a fresh embedded chain or a fresh anvil node."""
    with tempfile.TemporaryDirectory() as data_dir:
        if name == "embedded":
            with chain.connect(data_dir=Path(data_dir)) as client:
                yield client
        else:
            with chain.start_anvil(Path(data_dir)) as node, chain.connect(rpc_url=node.url) as client:
                yield client


def funded_suite(client: ChainClient) -> tuple[str, list[str]]:
    """A token whose WALLETS registered wallets hold plenty of tokens."""
    suite = client.deploy_suite("Bench", "BEN", 0)
    wallets = [Account.create().address for _ in range(WALLETS)]
    for chunk in range(0, WALLETS, 100):
        part = wallets[chunk : chunk + 100]
        client.batch_register_identity(suite.identity_registry, part, [840] * len(part))
        client.batch_mint(suite.token, part, [1_000_000] * len(part))
    return suite.token, wallets


def transfer_legs(wallets: list[str], count: int, offset: int) -> tuple[list[str], list[str]]:
    """count (seller, buyer) legs, each pair of wallets distinct from the others."""
    pairs = len(wallets) // 2
    legs = [(offset + i) % pairs for i in range(count)]
    return [wallets[2 * leg] for leg in legs], [wallets[2 * leg + 1] for leg in legs]


def bench_single(client: ChainClient, token: str, wallets: list[str], transfers: int) -> tuple[int, float]:
    """forcedTransfer per trade, each sent and waited for; returns (gas, seconds)."""
    froms, tos = transfer_legs(wallets, transfers, 0)
    start = time.perf_counter()
    gas = sum(client.forced_transfer(token, f, t, 1).gas_used for f, t in zip(froms, tos, strict=True))
    return gas, time.perf_counter() - start


def bench_batch(
    client: ChainClient, token: str, wallets: list[str], transfers: int, size: int
) -> tuple[int, float]:
    """batchForcedTransfer of `size` trades per transaction; returns (gas, seconds)."""
    gas, start = 0, time.perf_counter()
    for offset in range(0, transfers, size):
        froms, tos = transfer_legs(wallets, size, offset)
        gas += client.batch_forced_transfer(token, froms, tos, [1] * size).gas_used
    return gas, time.perf_counter() - start


def run_backend(name: str, transfers: int) -> list[Row]:
    """All modes on one backend."""
    rows = []
    with open_backend(name) as client:
        token, wallets = funded_suite(client)
        gas, seconds = bench_single(client, token, wallets, transfers)
        rows.append(Row(name, "forcedTransfer x1", transfers, gas / transfers, transfers / seconds))
        for size in BATCH_SIZES:
            batched = max(size, transfers // size * size)
            gas, seconds = bench_batch(client, token, wallets, batched, size)
            rows.append(Row(name, f"batchForcedTransfer x{size}", batched, gas / batched, batched / seconds))
    return rows


def print_table(rows: list[Row]) -> None:
    """The results as a plain-text table."""
    print(f"{'backend':<10} {'mode':<26} {'transfers':>9} {'gas/transfer':>13} {'transfers/s':>12}")
    for row in rows:
        rates = f"{row.gas_per_transfer:>13,.0f} {row.transfers_per_second:>12,.1f}"
        print(f"{row.backend:<10} {row.mode:<26} {row.transfers:>9} {rates}")


def main() -> None:
    """Parse arguments, run every available backend, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=200, help="transfers per mode (default 200)")
    parser.add_argument("--backends", default="embedded,anvil", help="comma-separated: embedded, anvil")
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.backends.split(","):
        if name == "anvil" and chain.find_anvil() is None:
            print(f"skipping anvil: {chain.anvil.ANVIL_INSTALL_HINT}")
            continue
        rows += run_backend(name, args.transfers)
    print_table(rows)


if __name__ == "__main__":
    main()
