"""The signing key, the dev-key rule, and nonce allocation for transactions in flight."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from chain.errors import SignerNotAllowed

# The well-known first account of anvil and hardhat ("test test ... junk" mnemonic). Public,
# so only ever acceptable on a local development chain.
DEV_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

# All ten well-known dev accounts; the embedded chain funds them in its genesis as anvil does,
# so tests and demos can use the same extra wallets on both.
DEV_ACCOUNT_KEYS = (
    DEV_PRIVATE_KEY,
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)

EMBEDDED_CHAIN_ID = 131277322940537
# Local development chains: geth --dev / ganache, anvil / hardhat, eth-tester (embedded).
DEV_CHAIN_IDS = frozenset({1337, 31337, EMBEDDED_CHAIN_ID})


def load_account(private_key: str | None, key_file: Path | None, chain_id: int) -> LocalAccount:
    """The account to sign with: the given key or key file, else the dev key on a dev chain."""
    if private_key and key_file:
        raise SignerNotAllowed("give either a private key or a key file, not both")
    if key_file is not None:
        private_key = key_file.read_text().strip()
    if not private_key:
        private_key = DEV_PRIVATE_KEY
    try:
        account: LocalAccount = Account.from_key(private_key)
    except (ValueError, TypeError) as error:
        raise SignerNotAllowed(f"the configured private key is not valid: {error}") from None
    if account.key == Account.from_key(DEV_PRIVATE_KEY).key and chain_id not in DEV_CHAIN_IDS:
        raise SignerNotAllowed(
            f"the public development key may not sign on chain id {chain_id}; "
            "configure a private key (ALEF_CHAIN_PRIVATE_KEY or a key file)"
        )
    return account


class NonceAllocator:
    """Hands out consecutive nonces for one sender so many transactions can be in flight.

    Starts from the node's pending transaction count and counts locally after that; `reset`
    makes the next allocation ask the node again (after a failed send or a nonce conflict).
    Callers hold `lock` from allocation until the node accepted the transaction, so nonces
    reach the node in order and a failure never leaves a gap.
    """

    def __init__(self, fetch_pending_count: Callable[[], int]) -> None:
        self._fetch_pending_count = fetch_pending_count
        self._next_nonce: int | None = None
        self.lock = threading.RLock()

    def allocate(self) -> int:
        """The next nonce; call with `lock` held."""
        if self._next_nonce is None:
            self._next_nonce = self._fetch_pending_count()
        nonce = self._next_nonce
        self._next_nonce += 1
        return nonce

    def reset(self) -> None:
        """Forget the local count; the next allocation asks the node."""
        self._next_nonce = None
