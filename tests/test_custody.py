"""Delivery versus payment: a holder cannot split the books and the chain by signing a transfer
herself (the double-sale attack of issue 18), on the embedded EVM and on anvil."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account import Account
from settlement_helpers import anvil_or_skip, db_tokens, trade
from sqlalchemy import text

import chain
from alefctl.workflows.onchain.minting import run_mint_jobs
from alefctl.workflows.reconcile import reconcile
from alefctl.workflows.settlement.runner import run_settlement
from chain.signer import DEV_ACCOUNT_KEYS

KEYS = {"alice": DEV_ACCOUNT_KEYS[1], "bob": DEV_ACCOUNT_KEYS[2]}


@pytest.fixture(scope="module")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[chain.AnvilNode]:
    """An anvil node of this module; skipped without anvil unless CI requires it."""
    node = anvil_or_skip(tmp_path_factory.mktemp("anvil-custody"))
    yield node
    node.stop()


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def node(request: pytest.FixtureRequest, chain_client: chain.ChainClient):  # noqa: ANN201
    """(agent client, open a client signing with a key) on each chain."""
    if request.param == "embedded":
        data_dir = chain_client.w3.provider.data_dir
        return chain_client, lambda key: chain.connect(data_dir=data_dir, private_key=key)
    anvil = request.getfixturevalue("anvil_node")
    return (chain.connect(rpc_url=anvil.url),
            lambda key: chain.connect(rpc_url=anvil.url, private_key=key))


def _held_by_known_keys(platform, client, symbol: str, holdings: dict[str, int]):  # noqa: ANN001, ANN202
    """A live token whose holders' wallets are keys the test holds, minted on-chain."""
    from alefctl.workflows.lifecycle import enable_secondary, start_offering
    from alefctl.workflows.offering import confirm_payments, subscribe
    from alefctl.workflows.onchain.deploy import deploy_token
    from alefctl.workflows.tokens import get_token

    platform.draft_token(symbol)
    deploy_token(platform.engine, platform.admin, symbol, client)
    with platform.engine.begin() as conn:
        start_offering(conn, platform.admin, symbol)
    for name, quantity in holdings.items():
        wallet = Account.from_key(KEYS[name]).address
        investor = platform.approved(name, wallet=wallet, fiat="50000")
        with platform.engine.begin() as conn:
            subscribe(conn, investor, symbol, quantity)
    with platform.engine.begin() as conn:
        confirm_payments(conn, platform.admin, symbol)
        enable_secondary(conn, platform.admin, symbol, Decimal("2"))
        token = get_token(conn, symbol)
    assert run_mint_jobs(platform.engine, client).failed == 0
    return token


def test_a_holder_cannot_move_platform_tokens_herself(platform, node) -> None:  # noqa: ANN001
    client, as_key = node
    token = _held_by_known_keys(platform, client, "DVP", {"alice": 100, "bob": 10})
    bob_wallet = Account.from_key(KEYS["bob"]).address
    alice = as_key(KEYS["alice"])
    # The attack: alice signs transfer(bob, 100) with her own key, straight on the chain.
    units = 100 * 10 ** token.decimals
    with pytest.raises(chain.ContractRevert) as refused:
        alice.transact(chain.calls.transfer(token.contract_address, bob_wallet, units))
    assert refused.value.rule == "holder_transfers_closed", str(refused.value)
    # transferFrom with an allowance she gave bob is refused too
    bob = as_key(KEYS["bob"])
    assert alice.transact(chain.calls.ContractCall(
        "SecurityToken", token.contract_address, "approve", (bob_wallet, units), 300_000)).succeeded
    with pytest.raises(chain.ContractRevert) as refused:
        bob.transact(chain.calls.ContractCall(
            "SecurityToken", token.contract_address, "transferFrom",
            (alice.signer_address, bob_wallet, units), 300_000))
    assert refused.value.rule == "holder_transfers_closed"
    assert chain_tokens_of(client, token, alice.signer_address) == 100
    # The books and the chain still agree, and her sale on the book settles on-chain.
    [result] = reconcile(platform.engine, platform.admin, client, "DVP")
    assert result.ok, result.breaks
    trade(platform, "alice", "bob", "DVP", 90)
    assert run_settlement(platform.engine, client).settled_on_chain == 1
    assert chain_tokens_of(client, token, bob_wallet) == db_tokens(platform, "DVP", "bob") == 100
    assert chain_tokens_of(client, token, alice.signer_address) == 10


def chain_tokens_of(client: chain.ChainClient, token, wallet: str) -> int:  # noqa: ANN001
    """A wallet's on-chain balance in whole tokens."""
    return int(client.balance_of(token.contract_address, wallet) // 10 ** token.decimals)


def test_new_tokens_deploy_in_custody(platform, chain_client) -> None:  # noqa: ANN001
    token = _held_by_known_keys(platform, chain_client, "CUST", {"alice": 5})
    assert chain_client.holder_transfers_open(token.contract_address) is False
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM token_chain_jobs")).scalar_one() == 0
