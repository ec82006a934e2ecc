"""The client contract the workflows rely on: send then wait, receipts after a crash, gas, nonces,
resumable deploys, and the error tree. Runs on the embedded EVM and on anvil."""

from __future__ import annotations

import pytest
from chain_helpers import US, refused, register

import chain
from chain import ChainClient, DeployResult, calls
from chain.signer import load_account


def test_send_returns_before_wait_and_receipt_of_finds_it_later(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    register(client, suite, holders[:1])
    sent = client.send_mint(suite.token, holders[0], 7)
    assert sent.tx_hash.startswith("0x") and len(sent.tx_hash) == 66
    assert (sent.sender, sent.to, sent.description) == (
        client.signer_address,
        suite.token,
        "SecurityToken.mint",
    )
    assert 0 < sent.gas_limit <= chain.CALL_GAS_CAP
    receipt = client.wait(sent)
    assert receipt.succeeded and 0 < receipt.gas_used <= sent.gas_limit and receipt.fee_wei > 0
    assert client.receipt_of(sent.tx_hash) == receipt  # what a restarted worker asks
    assert client.wait(sent.tx_hash) == receipt
    assert not client.is_pending(sent.tx_hash)


def test_unknown_transaction_has_no_receipt_and_times_out(client: ChainClient) -> None:
    unknown = "0x" + "ab" * 32
    assert client.receipt_of(unknown) is None and not client.is_pending(unknown)
    with pytest.raises(chain.TransactionTimeout) as timeout:
        client.wait(unknown, timeout=0.2)
    assert timeout.value.tx_hash == unknown


def test_many_transactions_in_flight_get_consecutive_nonces(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    register(client, suite, holders[:4])
    sent = [client.send_mint(suite.token, holders[i % 4], 1) for i in range(12)]
    assert [s.nonce for s in sent] == list(range(sent[0].nonce, sent[0].nonce + 12))
    assert all(client.wait(s).succeeded for s in sent)
    assert client.total_supply(suite.token) == 12


def test_gas_cap_is_enforced_before_sending(client: ChainClient, suite: DeployResult) -> None:
    tight = calls.ContractCall("SecurityToken", suite.token, "pause", (), gas_cap=25_000)
    with pytest.raises(chain.GasCapExceeded) as exceeded:
        client.send(tight)
    assert exceeded.value.cap == 25_000 and exceeded.value.estimate > 25_000
    assert not client.paused(suite.token)


def test_batch_gas_cap_grows_with_the_batch(suite: DeployResult, holders: list[str]) -> None:
    assert calls.batch_mint(suite.token, holders[:5], [1] * 5).gas_cap == 5 * chain.CALL_GAS_CAP
    assert calls.deploy_identity_registry().gas_cap == chain.DEPLOY_GAS_CAP


def test_a_transaction_that_fails_on_chain_reports_its_rule_and_gas(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    sent = client.send(calls.mint(suite.token, holders[5], 1), estimate=False)  # unverified receiver
    assert sent.gas_limit == chain.CALL_GAS_CAP
    error = refused("receiver_not_verified", client.wait, sent)
    assert error.receipt is not None and not error.receipt.succeeded and error.receipt.gas_used > 21_000
    receipt = client.receipt_of(sent.tx_hash)
    assert receipt is not None and not receipt.succeeded
    assert client.explain_failure(receipt).rule == "receiver_not_verified"


def test_deploy_resumes_from_recorded_hashes_without_a_second_suite(client: ChainClient) -> None:
    recorded: dict[str, str] = {}

    def record_then_crash_after_token(step: str, sent: chain.SentTransaction) -> None:
        recorded[step] = sent.tx_hash
        if step == "token":
            raise RuntimeError("worker crashed")

    start_nonce = client.w3.eth.get_transaction_count(client.signer_address)
    with pytest.raises(RuntimeError):
        client.deploy_suite("Resumed", "RSM", 0, on_sent=record_then_crash_after_token)
    resumed = client.deploy_suite("Resumed", "RSM", 0, recorded_hashes=recorded)
    assert resumed.tx_hashes["token"] == recorded["token"]
    assert resumed.tx_hashes["identity_registry"] == recorded["identity_registry"]
    assert client.w3.eth.get_transaction_count(client.signer_address) == start_nonce + 5
    assert client.is_agent("SecurityToken", resumed.token, client.signer_address)
    again = client.deploy_suite("Resumed", "RSM", 0, recorded_hashes=resumed.tx_hashes)  # type: ignore[arg-type]
    assert again == resumed


def test_resume_skips_an_agent_grant_done_but_never_recorded(client: ChainClient) -> None:
    full = client.deploy_suite("Half", "HLF", 0)
    recorded = {step.step: step.tx_hash for step in full.steps[:3] if step.tx_hash}
    resumed = client.deploy_suite("Half", "HLF", 0, recorded_hashes=recorded)
    assert resumed.token == full.token
    assert [(s.tx_hash, s.gas_used) for s in resumed.steps[3:]] == [(None, 0), (None, 0)]


def test_register_identity_send_variant_returns_none_when_done(
    client: ChainClient, suite: DeployResult, holders: list[str]
) -> None:
    sent = client.send_register_identity(suite.identity_registry, holders[0], US)
    assert sent is not None and client.wait(sent).succeeded
    assert client.send_register_identity(suite.identity_registry, holders[0], US) is None
    assert client.is_verified(suite.identity_registry, holders[0])


def test_dev_key_is_refused_on_a_non_dev_chain() -> None:
    with pytest.raises(chain.SignerNotAllowed, match="development key"):
        load_account(None, None, 137)
    with pytest.raises(chain.SignerNotAllowed, match="not valid"):
        load_account("0x1234", None, 137)
    own_key = "0x" + "11" * 32
    assert load_account(own_key, None, 137).address == load_account(own_key, None, 31337).address
    for chain_id in chain.DEV_CHAIN_IDS:
        assert load_account(None, None, chain_id).key.hex().endswith(chain.DEV_PRIVATE_KEY[2:])


def test_unreachable_node_is_chain_unavailable() -> None:
    with pytest.raises(chain.ChainUnavailable):
        chain.connect(rpc_url="http://127.0.0.1:9", request_timeout=2)
    assert issubclass(chain.ChainUnavailable, chain.ChainError)
    assert issubclass(chain.ContractRevert, chain.ChainError)


def test_connect_needs_a_target() -> None:
    with pytest.raises(ValueError):
        chain.connect()
