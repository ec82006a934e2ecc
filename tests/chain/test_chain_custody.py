"""Platform custody (delivery versus payment) and the holder cap, on the embedded EVM and anvil.

A new suite refuses every holder-signed transfer: only agents (mint, settlement's forced
transfers, burn, recovery) move the token, so the books and the chain cannot be split by a holder.
"""

from __future__ import annotations

from chain_helpers import refused, register

from chain import ChainClient, DeployResult, calls


def _custody_suite(client: ChainClient, holders: list[str], amount: int) -> DeployResult:
    suite = client.deploy_suite("Custody Security", "CST", 0)
    register(client, suite, holders)
    client.batch_mint(suite.token, holders, [amount] * len(holders))
    return suite


def test_a_new_token_refuses_holder_transfers_and_agents_still_move_it(
    backend, client: ChainClient, holders: list[str]
) -> None:  # noqa: ANN001
    suite = _custody_suite(client, holders[:3], 100)
    assert client.holder_transfers_open(suite.token) is False
    alice, bob = backend.as_holder(0), backend.as_holder(1)
    refused("holder_transfers_closed", alice.transact, calls.transfer(suite.token, holders[1], 100))
    assert bob.transact(calls.ContractCall(
        "SecurityToken", suite.token, "approve", (holders[0], 50), 300_000)).succeeded
    refused("holder_transfers_closed", alice.transact, calls.ContractCall(
        "SecurityToken", suite.token, "transferFrom", (holders[1], holders[0], 50), 300_000))
    refused("holder_transfers_closed", alice.transact, calls.ContractCall(
        "SecurityToken", suite.token, "batchTransfer", ([holders[2]], [1]), 300_000))
    assert client.forced_transfer(suite.token, holders[0], holders[1], 10).succeeded
    assert client.burn(suite.token, holders[2], 5).succeeded
    assert client.mint(suite.token, holders[2], 5).succeeded
    assert [client.balance_of(suite.token, h) for h in holders[:3]] == [90, 110, 100]


def test_only_the_owner_opens_holder_transfers(
    backend, client: ChainClient, holders: list[str]
) -> None:  # noqa: ANN001
    suite = _custody_suite(client, holders[:2], 10)
    refused("not_owner", backend.as_holder(0).transact,
            calls.set_holder_transfers_open(suite.compliance, True))
    assert client.set_holder_transfers_open(suite.token, True) is not None
    assert client.set_holder_transfers_open(suite.token, True) is None  # already open
    assert backend.as_holder(0).transact(calls.transfer(suite.token, holders[1], 1)).succeeded
    client.set_holder_transfers_open(suite.token, False)
    refused("holder_transfers_closed", backend.as_holder(0).transact,
            calls.transfer(suite.token, holders[1], 1))


def test_max_holders_counts_wallets_and_refuses_a_new_one(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    register(client, suite, holders[:4])
    client.batch_mint(suite.token, holders[:2], [10, 10])
    assert client.holder_count(suite.token) == 2
    client.set_max_holders(suite.token, 2)
    assert client.max_holders(suite.token) == 2
    refused("max_holders_exceeded", client.mint, suite.token, holders[2], 1)
    refused("max_holders_exceeded", client.forced_transfer, suite.token, holders[0], holders[2], 1)
    assert client.mint(suite.token, holders[1], 5).succeeded  # an existing holder may receive
    # a holder handing over everything makes room: the count stays 2
    assert client.forced_transfer(suite.token, holders[0], holders[2], 10).succeeded
    assert client.holder_count(suite.token) == 2
    assert client.burn(suite.token, holders[2], 10).succeeded
    assert client.holder_count(suite.token) == 1
    assert client.mint(suite.token, holders[3], 1).succeeded
    client.set_max_holders(suite.token, 0)
    assert client.mint(suite.token, holders[0], 1).succeeded and client.holder_count(suite.token) == 3
