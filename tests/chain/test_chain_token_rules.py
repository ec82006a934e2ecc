"""Behaviour matrix of the contracts: who may do what, pause, freezes, compliance, recovery.

Every test runs on the embedded EVM and on anvil (see conftest.backend).
"""

from __future__ import annotations

from chain_helpers import DE, US, refused, register
from eth_account import Account

from chain import ChainClient, DeployResult, calls


def _minted(client: ChainClient, suite: DeployResult, wallets: list[str], amount: int) -> None:
    register(client, suite, wallets)
    client.batch_mint(suite.token, wallets, [amount] * len(wallets))


# ---- deployment ----


def test_deploy_is_five_transactions_with_gas_and_bindings(client: ChainClient, suite: DeployResult) -> None:
    assert [step.step for step in suite.steps] == [
        "identity_registry",
        "compliance",
        "token",
        "identity_registry_agent",
        "token_agent",
    ]
    assert all(step.tx_hash and 21_000 < step.gas_used <= 3_000_000 for step in suite.steps)
    assert client.identity_registry_of(suite.token) == suite.identity_registry
    assert client.compliance_of(suite.token) == suite.compliance
    assert client.read("Compliance", suite.compliance, "getTokenBound") == suite.token
    assert client.read("IdentityRegistry", suite.identity_registry, "getTokenBound") == suite.token
    assert client.is_agent("SecurityToken", suite.token, client.signer_address)
    assert client.is_agent("IdentityRegistry", suite.identity_registry, client.signer_address)
    assert client.read("SecurityToken", suite.token, "owner") == client.signer_address
    assert (client.symbol(suite.token), client.decimals(suite.token), client.paused(suite.token)) == (
        "TST",
        0,
        False,
    )


def test_strangers_cannot_bind_a_suite_contract(backend, suite: DeployResult) -> None:  # noqa: ANN001
    stranger = backend.as_holder(0)
    refused(
        "binding_refused",
        stranger.transact,
        calls.ContractCall("Compliance", suite.compliance, "bindToken", (stranger.signer_address,), 300_000),
    )
    refused(
        "only_bound_token",
        stranger.transact,
        calls.ContractCall("Compliance", suite.compliance, "created", (stranger.signer_address, 1), 300_000),
    )


# ---- roles ----


def test_only_agents_operate_and_only_the_owner_manages_roles(
    backend, suite: DeployResult, holders: list[str]
) -> None:  # noqa: ANN001
    holder = backend.as_holder(0)
    token = suite.token
    refused("not_agent", holder.mint, token, holders[0], 1)
    refused("not_agent", holder.forced_transfer, token, holders[0], holders[1], 1)
    refused("not_agent", holder.burn, token, holders[0], 1)
    refused("not_agent", holder.pause, token)
    refused("not_agent", holder.set_address_frozen, token, holders[1], True)
    refused("not_agent", holder.freeze_partial_tokens, token, holders[1], 1)
    refused("not_agent", holder.register_identity, suite.identity_registry, holders[0], US)
    refused("not_owner", holder.transact, calls.add_agent("SecurityToken", token, holders[0]))
    refused(
        "not_owner", holder.transact, calls.add_agent("IdentityRegistry", suite.identity_registry, holders[0])
    )
    refused("not_owner", holder.restrict_countries, token, [DE])
    refused("not_owner", holder.set_max_balance, token, 5)


def test_a_new_agent_may_operate_until_removed(
    backend, client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:  # noqa: ANN001
    agent = backend.as_holder(0)
    register(client, suite, [holders[1]])
    client.transact(calls.add_agent("SecurityToken", suite.token, holders[0]))
    assert agent.mint(suite.token, holders[1], 5).succeeded
    client.transact(calls.remove_agent("SecurityToken", suite.token, holders[0]))
    refused("not_agent", agent.mint, suite.token, holders[1], 5)
    refused("agent_not_found", client.transact, calls.remove_agent("SecurityToken", suite.token, holders[0]))


# ---- mint and identities ----


def test_mint_only_to_verified_wallets(client: ChainClient, suite: DeployResult, holders: list[str]) -> None:
    error = refused("receiver_not_verified", client.mint, suite.token, holders[0], 100)
    assert "is not verified in the identity registry" in str(error) and error.receipt is None
    assert client.register_identity(suite.identity_registry, holders[0], US) is not None
    receipt = client.mint(suite.token, holders[0], 100)
    assert [e.name for e in receipt.events] == ["Transfer"]
    assert receipt.events[0].args == {"from": "0x" + "0" * 40, "to": holders[0], "value": 100}
    assert (client.balance_of(suite.token, holders[0]), client.total_supply(suite.token)) == (100, 100)


def test_register_identity_is_idempotent(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    first = client.register_identity(suite.identity_registry, holders[0], US)
    assert first is not None and first.events_named("IdentityRegistered")
    assert client.register_identity(suite.identity_registry, holders[0], DE) is None
    assert client.investor_country(suite.identity_registry, holders[0]) == US
    batch = client.batch_register_identity(
        suite.identity_registry, [holders[0], holders[1], holders[1]], [US, DE, DE]
    )
    assert batch is not None and len(batch.events_named("IdentityRegistered")) == 1
    assert client.batch_register_identity(suite.identity_registry, holders[:2], [US, DE]) is None
    refused(
        "already_registered",
        client.transact,
        calls.register_identity(suite.identity_registry, holders[0], US),
    )


# ---- holder transfers and pause ----


def test_holder_transfer_rules(backend, client: ChainClient, suite: DeployResult, holders: list[str]) -> None:  # noqa: ANN001
    _minted(client, suite, holders[:2], 50)
    holder = backend.as_holder(0)
    assert holder.transact(calls.transfer(suite.token, holders[1], 10)).succeeded
    outsider = Account.create().address
    refused("receiver_not_verified", holder.transact, calls.transfer(suite.token, outsider, 1))
    refused("insufficient_free_balance", holder.transact, calls.transfer(suite.token, holders[1], 41))
    assert (client.balance_of(suite.token, holders[0]), client.balance_of(suite.token, holders[1])) == (
        40,
        60,
    )


def test_pause_blocks_holder_transfers_only(
    backend, client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:  # noqa: ANN001
    _minted(client, suite, holders[:2], 50)
    receipt = client.pause(suite.token)
    assert receipt is not None and receipt.events_named("Paused")[0].args == {
        "userAddress": client.signer_address
    }
    assert client.pause(suite.token) is None  # already paused: nothing to do
    refused("token_paused", backend.as_holder(0).transact, calls.transfer(suite.token, holders[1], 1))
    assert client.forced_transfer(suite.token, holders[0], holders[1], 5).succeeded
    assert client.mint(suite.token, holders[0], 5).succeeded
    assert client.unpause(suite.token) is not None and client.unpause(suite.token) is None
    assert backend.as_holder(0).transact(calls.transfer(suite.token, holders[1], 1)).succeeded


# ---- freezing ----


def test_frozen_wallet_cannot_send_or_receive_but_agents_can_move_it(
    backend,
    client: ChainClient,
    suite: DeployResult,
    holders: list[str],  # noqa: ANN001
) -> None:
    _minted(client, suite, holders[:2], 50)
    receipt = client.set_address_frozen(suite.token, holders[1], True)
    assert receipt.events_named("AddressFrozen")[0].args == {
        "userAddress": holders[1],
        "isFrozen": True,
        "owner": client.signer_address,
    }
    assert client.is_frozen(suite.token, holders[1])
    refused("wallet_frozen", backend.as_holder(0).transact, calls.transfer(suite.token, holders[1], 1))
    refused("wallet_frozen", backend.as_holder(1).transact, calls.transfer(suite.token, holders[0], 1))
    assert client.forced_transfer(suite.token, holders[1], holders[0], 50).succeeded
    client.set_address_frozen(suite.token, holders[1], False)
    assert backend.as_holder(0).transact(calls.transfer(suite.token, holders[1], 1)).succeeded


def test_partial_freeze_and_forced_transfer_unfreezes_only_the_shortfall(
    backend,
    client: ChainClient,
    suite: DeployResult,
    holders: list[str],  # noqa: ANN001
) -> None:
    _minted(client, suite, holders[:2], 100)
    assert client.freeze_partial_tokens(suite.token, holders[0], 60).events_named("TokensFrozen")
    refused(
        "insufficient_free_balance",
        backend.as_holder(0).transact,
        calls.transfer(suite.token, holders[1], 41),
    )
    within_free = client.forced_transfer(suite.token, holders[0], holders[1], 30)
    assert [e.name for e in within_free.events] == ["Transfer"]
    assert client.frozen_tokens(suite.token, holders[0]) == 60
    beyond_free = client.forced_transfer(suite.token, holders[0], holders[1], 25)  # 10 free + 15 frozen
    assert [(e.name, dict(e.args)) for e in beyond_free.events] == [
        ("TokensUnfrozen", {"userAddress": holders[0], "amount": 15}),
        ("Transfer", {"from": holders[0], "to": holders[1], "value": 25}),
    ]
    assert (client.balance_of(suite.token, holders[0]), client.frozen_tokens(suite.token, holders[0])) == (
        45,
        45,
    )
    refused("freeze_exceeds_balance", client.freeze_partial_tokens, suite.token, holders[0], 1)
    refused("unfreeze_exceeds_frozen", client.unfreeze_partial_tokens, suite.token, holders[0], 46)
    assert client.unfreeze_partial_tokens(suite.token, holders[0], 45).succeeded
    refused("insufficient_balance", client.forced_transfer, suite.token, holders[0], holders[1], 46)


def test_burn_releases_frozen_tokens_for_the_shortfall(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    _minted(client, suite, holders[:1], 10)
    client.freeze_partial_tokens(suite.token, holders[0], 8)
    receipt = client.burn(suite.token, holders[0], 5)
    assert [e.name for e in receipt.events] == ["TokensUnfrozen", "Transfer"]
    assert receipt.events[0].args["amount"] == 3
    assert (client.balance_of(suite.token, holders[0]), client.frozen_tokens(suite.token, holders[0])) == (
        5,
        5,
    )
    assert client.total_supply(suite.token) == 5


# ---- compliance ----


def test_country_restriction_blocks_receivers_from_that_country(
    backend,
    client: ChainClient,
    suite: DeployResult,
    holders: list[str],  # noqa: ANN001
) -> None:
    _minted(client, suite, holders[:1], 10)
    client.register_identity(suite.identity_registry, holders[1], DE)
    assert client.restrict_countries(suite.token, [DE]) is not None
    assert client.restrict_countries(suite.token, [DE]) is None and client.is_country_restricted(
        suite.token, DE
    )
    error = refused("country_restricted", client.forced_transfer, suite.token, holders[0], holders[1], 1)
    assert error.error_args == {"wallet": holders[1], "country": DE}
    refused("country_restricted", client.mint, suite.token, holders[1], 1)
    refused("country_restricted", backend.as_holder(0).transact, calls.transfer(suite.token, holders[1], 1))
    assert not client.read("Compliance", suite.compliance, "canTransfer", holders[0], holders[1], 1)
    client.unrestrict_countries(suite.token, [DE])
    assert client.forced_transfer(suite.token, holders[0], holders[1], 1).succeeded


def test_max_balance_per_wallet(client: ChainClient, suite: DeployResult, holders: list[str]) -> None:
    _minted(client, suite, holders[:2], 10)
    client.set_max_balance(suite.token, 15)
    assert client.max_balance(suite.token) == 15
    error = refused("max_balance_exceeded", client.mint, suite.token, holders[0], 6)
    assert error.error_args == {"wallet": holders[0], "balanceAfter": 16, "maxBalance": 15}
    assert client.forced_transfer(suite.token, holders[1], holders[0], 5).succeeded
    refused("max_balance_exceeded", client.forced_transfer, suite.token, holders[1], holders[0], 1)
    client.set_max_balance(suite.token, 0)
    assert client.mint(suite.token, holders[0], 100).succeeded


# ---- recovery ----


def test_recovery_moves_balance_freeze_state_and_registration(
    client: ChainClient, suite: DeployResult
) -> None:
    lost, new, identity = (Account.create().address for _ in range(3))
    client.register_identity(suite.identity_registry, lost, US, identity)
    client.mint(suite.token, lost, 40)
    client.freeze_partial_tokens(suite.token, lost, 15)
    client.set_address_frozen(suite.token, lost, True)
    receipt = client.recover_wallet(suite.token, lost, new)
    assert receipt.events_named("RecoverySuccess")[0].args == {
        "lostWallet": lost,
        "newWallet": new,
        "investorOnchainID": identity,
    }
    assert (client.balance_of(suite.token, new), client.frozen_tokens(suite.token, new)) == (40, 15)
    assert client.is_frozen(suite.token, new) and client.balance_of(suite.token, lost) == 0
    assert client.identity_of(suite.identity_registry, new) == identity
    assert client.investor_country(suite.identity_registry, new) == US
    assert not client.is_verified(suite.identity_registry, lost)
    refused("nothing_to_recover", client.recover_wallet, suite.token, lost, new, identity)


def test_recovery_refuses_a_wrong_identity(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    _minted(client, suite, holders[:1], 5)
    refused(
        "recovery_identity_mismatch", client.recover_wallet, suite.token, holders[0], holders[1], holders[2]
    )


# ---- batches ----


def test_batches_apply_every_item_or_none(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    _minted(client, suite, holders[:3], 10)
    receipt = client.batch_forced_transfer(
        suite.token, holders[:3], holders[1:4][:2] + [holders[0]], [1, 2, 3]
    )
    assert len(receipt.events_named("Transfer")) == 3
    refused(
        "insufficient_balance",
        client.batch_forced_transfer,
        suite.token,
        holders[:2],
        holders[1:3],
        [1, 1000],
    )
    assert [client.balance_of(suite.token, h) for h in holders[:3]] == [12, 9, 9]


def test_batches_with_mismatched_lengths_revert(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    register(client, suite, holders[:2])
    token, registry = suite.token, suite.identity_registry
    mismatched = [
        calls.batch_mint(token, holders[:2], [1]),
        calls.batch_burn(token, holders[:2], [1]),
        calls.batch_forced_transfer(token, holders[:2], holders[:1], [1, 1]),
        calls.batch_set_address_frozen(token, holders[:2], [True]),
        calls.ContractCall(
            "SecurityToken", token, "batchFreezePartialTokens", (holders[:1], [1, 2]), 600_000
        ),
        calls.ContractCall("SecurityToken", token, "batchUnfreezePartialTokens", (holders[:2], []), 600_000),
        calls.ContractCall("SecurityToken", token, "batchTransfer", (holders[:2], [1]), 600_000),
        calls.batch_register_identity(registry, holders[2:4], [US], holders[2:4]),
    ]
    for call in mismatched:
        refused("array_length_mismatch", client.transact, call)


def test_allowance_and_transfer_from(
    backend, client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:  # noqa: ANN001
    _minted(client, suite, holders[:3], 20)
    owner, spender = backend.as_holder(0), backend.as_holder(1)
    approval = owner.transact(
        calls.ContractCall("SecurityToken", suite.token, "approve", (holders[1], 5), 300_000)
    )
    assert approval.events_named("Approval")[0].args == {
        "owner": holders[0],
        "spender": holders[1],
        "value": 5,
    }
    move = calls.ContractCall(
        "SecurityToken", suite.token, "transferFrom", (holders[0], holders[2], 4), 300_000
    )
    assert spender.transact(move).succeeded
    assert client.read("SecurityToken", suite.token, "allowance", holders[0], holders[1]) == 1
    refused("insufficient_allowance", spender.transact, move)
    batch = calls.ContractCall("SecurityToken", suite.token, "batchTransfer", (holders[1:3], [1, 2]), 600_000)
    assert owner.transact(batch).succeeded
    assert [client.balance_of(suite.token, h) for h in holders[:3]] == [13, 21, 26]


def test_agents_maintain_the_identity_registry(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    registry = suite.identity_registry
    client.register_identity(registry, holders[0], US)
    assert client.transact(calls.update_country(registry, holders[0], DE)).events_named("CountryUpdated")
    assert client.investor_country(registry, holders[0]) == DE
    new_identity = Account.create().address
    update = calls.ContractCall(
        "IdentityRegistry", registry, "updateIdentity", (holders[0], new_identity), 300_000
    )
    assert client.transact(update).events_named("IdentityUpdated")[0].args == {
        "oldIdentity": holders[0],
        "newIdentity": new_identity,
    }
    assert client.transact(calls.delete_identity(registry, holders[0])).events_named("IdentityRemoved")
    assert not client.is_verified(registry, holders[0])
    refused("not_registered", client.transact, calls.delete_identity(registry, holders[0]))


def test_ownership_can_be_handed_over(
    backend, client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:  # noqa: ANN001
    hand_over = calls.ContractCall("SecurityToken", suite.token, "transferOwnership", (holders[0],), 300_000)
    assert client.transact(hand_over).events_named("OwnershipTransferred")[0].args == {
        "previousOwner": client.signer_address,
        "newOwner": holders[0],
    }
    refused("not_owner", client.transact, calls.add_agent("SecurityToken", suite.token, holders[1]))
    assert backend.as_holder(0).transact(calls.add_agent("SecurityToken", suite.token, holders[1])).succeeded
