"""On-chain batch settlement against a real anvil node (CI: ALEF_REQUIRE_ANVIL=1 makes a missing
anvil a failure, as in tests/chain)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from settlement_helpers import (
    anvil_or_skip,
    chain_tokens,
    db_tokens,
    minted_token,
    trade,
    trade_state,
)

import chain
from alefctl.workflows.reconcile import reconcile
from alefctl.workflows.settlement.runner import run_settlement

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def anvil_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[chain.ChainClient]:
    """A client on an anvil node of this module; skipped without anvil unless CI requires it."""
    node = anvil_or_skip(tmp_path_factory.mktemp("anvil-settlement"))
    client = chain.connect(rpc_url=node.url)
    yield client
    client.close()
    node.stop()


def test_batch_settlement_on_anvil(platform, anvil_client) -> None:  # noqa: ANN001
    token = minted_token(platform, anvil_client, "ANV", {"alice": 100, "bob": 50}, ("carol", "dave"))
    trades = [trade(platform, "alice", "carol", "ANV", 10), trade(platform, "bob", "dave", "ANV", 5),
              trade(platform, "carol", "dave", "ANV", 4)]  # carol sells what she just bought
    report = run_settlement(platform.engine, anvil_client)
    assert (report.settled_on_chain, report.transactions) == (3, 1)
    assert len({trade_state(platform, t)["tx_hash"] for t in trades}) == 1
    for name in ("alice", "bob", "carol", "dave"):
        assert chain_tokens(anvil_client, token, name) == db_tokens(platform, "ANV", name), name
    [result] = reconcile(platform.engine, platform.admin, anvil_client, "ANV")
    assert result.ok and result.in_flight == [], result.breaks
