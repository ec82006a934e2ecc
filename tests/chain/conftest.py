"""Fixtures of the chain tests: one embedded chain and one anvil node per session.

Tests that take `backend` run twice: on the embedded EVM and, marked `anvil`, on a real anvil
node. Without anvil they skip with the install hint, unless ALEF_REQUIRE_ANVIL=1 (CI), where a
missing anvil fails them instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from chain_helpers import HOLDER_KEYS
from eth_account import Account

import chain
from chain import ChainClient, DeployResult


@dataclass
class Backend:
    """Where a test's chain lives, and how to open more clients on it."""

    name: str
    client: ChainClient
    open_client: Callable[[str], ChainClient]
    _holder_clients: dict[int, ChainClient] = field(default_factory=dict)

    def as_holder(self, index: int) -> ChainClient:
        """A client signing with holder key `index` (cached for the session)."""
        if index not in self._holder_clients:
            self._holder_clients[index] = self.open_client(HOLDER_KEYS[index])
        return self._holder_clients[index]


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data dir of the session's embedded chain."""
    return tmp_path_factory.mktemp("embedded-chain")


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    """The anvil binary; skip without it, or fail when ALEF_REQUIRE_ANVIL=1 (CI)."""
    binary = chain.find_anvil()
    if binary is None:
        if os.environ.get("ALEF_REQUIRE_ANVIL") == "1":
            pytest.fail("ALEF_REQUIRE_ANVIL=1 but " + chain.anvil.ANVIL_INSTALL_HINT)
        pytest.skip(chain.anvil.ANVIL_INSTALL_HINT)
    return binary


@pytest.fixture(scope="session")
def anvil_node(anvil_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[chain.AnvilNode]:
    """A running anvil node for the session."""
    node = chain.start_anvil(tmp_path_factory.mktemp("anvil"))
    yield node
    node.stop()


def _embedded_backend(embedded_dir: Path) -> Backend:
    def open_client(key: str) -> ChainClient:
        return chain.connect(data_dir=embedded_dir, private_key=key)

    return Backend("embedded", open_client(chain.DEV_PRIVATE_KEY), open_client)


def _anvil_backend(node: chain.AnvilNode) -> Backend:
    def open_client(key: str) -> ChainClient:
        return chain.connect(rpc_url=node.url, private_key=key)

    return Backend("anvil", open_client(chain.DEV_PRIVATE_KEY), open_client)


@pytest.fixture(scope="session")
def embedded_backend(embedded_dir: Path) -> Backend:
    """The session's embedded chain, signer = dev key."""
    return _embedded_backend(embedded_dir)


@pytest.fixture(scope="session")
def anvil_backend(anvil_node: chain.AnvilNode) -> Backend:
    """The session's anvil node, signer = dev key."""
    return _anvil_backend(anvil_node)


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def backend(request: pytest.FixtureRequest) -> Backend:
    """Each test that takes this runs on the embedded EVM and on anvil."""
    return request.getfixturevalue(f"{request.param}_backend")  # type: ignore[no-any-return]


@pytest.fixture
def client(backend: Backend) -> ChainClient:
    """The agent/owner client (dev key) of the current backend."""
    return backend.client


@pytest.fixture
def suite(client: ChainClient) -> DeployResult:
    """A freshly deployed token suite (decimals 0), holder transfers opened so that the ERC-20
    rules can be exercised (a new suite starts in platform custody: tests/chain/test_chain_custody.py)."""
    deployed = client.deploy_suite("Test Security", "TST", 0)
    client.set_holder_transfers_open(deployed.token, True)
    return deployed


@pytest.fixture(scope="session")
def holders() -> list[str]:
    """Addresses of the holder keys, in order."""
    return [Account.from_key(key).address for key in HOLDER_KEYS]
