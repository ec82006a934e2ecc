"""Sending and confirming transactions: signing, nonces, gas, fees, receipts, error mapping.

Crash-safe use: `sent = client.send(call)`, record sent.tx_hash and sent.nonce, then
`client.wait(sent)`. After a crash, `client.receipt_of(tx_hash)` says whether it was mined
(None: not mined, or unknown to the node) and `client.is_pending(tx_hash)` whether the node
still holds it, so that nothing is sent twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import (
    ContractLogicError,
    ProviderConnectionError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3RPCError,
)

from chain.artifacts import decode_function_result, encode_deployment, encode_function_call
from chain.calls import BATCH_GAS_CAP_LIMIT, CALL_GAS_CAP, ContractCall
from chain.decoding import decode_logs, decode_revert
from chain.errors import (
    ChainUnavailable,
    ContractRevert,
    GasCapExceeded,
    TransactionRejected,
    TransactionTimeout,
)
from chain.results import SentTransaction, TxReceipt
from chain.signer import NonceAllocator

_NONCE_CONFLICTS = ("nonce too low", "replacement transaction underpriced", "nonce too high")
# Another process signing with the same key can take the nonce we counted; each conflict
# re-reads the node's pending count, after a short jittered pause so racing senders spread out.
_SEND_ATTEMPTS = 12


class NonceConflict(Exception):
    """Internal: the node refused the nonce; allocate again from its pending count."""


@contextmanager
def node_errors(description: str | None) -> Iterator[None]:
    """Translate web3 and transport errors into the chain exception tree.

    description names the operation in the messages (a revert keeps its bare message if None).
    """
    try:
        yield
    except ContractLogicError as error:
        data = error.data if isinstance(error.data, str) else "0x"  # raw revert data, hex
        raise decode_revert(bytes.fromhex(data.removeprefix("0x"))).with_context(description) from None
    except (requests.ConnectionError, requests.Timeout, ProviderConnectionError, ConnectionError) as error:
        raise ChainUnavailable(
            f"{description or 'chain request'}: chain node unreachable ({error})"
        ) from None
    except Web3RPCError as error:
        message = _rpc_message(error)
        if any(conflict in message.lower() for conflict in _NONCE_CONFLICTS):
            raise NonceConflict(message) from None
        raise TransactionRejected(f"{description or 'chain request'}: {message}") from None


def _rpc_message(error: Web3RPCError) -> str:
    response = error.rpc_response or {}
    detail = response.get("error") if isinstance(response, Mapping) else None
    return str(detail.get("message")) if isinstance(detail, Mapping) else str(error)


class ChainCore:
    """A signer on one chain: sends ContractCalls, waits for them, reads views."""

    def __init__(
        self, w3: Web3, account: LocalAccount, chain_id: int, receipt_timeout: float = 120.0,
        gas_limits: tuple[int, int] | None = None,
    ) -> None:
        self.w3 = w3
        # (per deployment, per call): the operator's caps in place of the calls' defaults
        self.gas_limits = gas_limits
        self.chain_id = chain_id
        self.receipt_timeout = receipt_timeout
        self._account = account
        self._nonces = NonceAllocator(self._pending_nonce)

    @property
    def signer_address(self) -> ChecksumAddress:
        """Checksummed address of the signing key."""
        return self._account.address

    def block_number(self) -> int:
        """Number of the latest block."""
        with node_errors("eth_blockNumber"):
            return int(self.w3.eth.block_number)

    def native_balance(self, address: str | None = None) -> int:
        """Balance in wei of an address (the signer by default)."""
        with node_errors("eth_getBalance"):
            return int(self.w3.eth.get_balance(Web3.to_checksum_address(address or self.signer_address)))

    def read(self, contract: str, address: str, function: str, *args: Any) -> Any:
        """Call a view function and decode its result."""
        data = encode_function_call(contract, function, args)
        request: Any = {"from": self.signer_address, "to": Web3.to_checksum_address(address), "data": data}
        with node_errors(f"{contract}.{function}"):
            return decode_function_result(contract, function, bytes(self.w3.eth.call(request)))

    def send(self, call: ContractCall, *, estimate: bool = True,
             on_signed: Callable[[SentTransaction], None] | None = None) -> SentTransaction:
        """Sign and broadcast; returns once the node accepted it, before it is mined.

        Gas: the estimate plus 20%, never above the call's cap (GasCapExceeded if the
        estimate itself is above it); estimate=False uses the cap, for a transaction that
        depends on others still in flight. A revert found by estimation raises ContractRevert.
        on_signed(sent) runs after signing and before broadcasting: a caller that records the
        hash there can always find out later whether the transaction reached the chain.
        """
        data = (
            encode_deployment(call.contract, call.args)
            if call.address is None
            else encode_function_call(call.contract, call.function or "", call.args)
        )
        fields: dict[str, Any] = {"chainId": self.chain_id, "data": data, "value": 0}
        if call.address is not None:
            fields["to"] = call.address
        fields["gas"] = self._gas_limit(call, fields) if estimate else self.gas_cap(call)
        fields.update(self._fees(call.description))
        for attempt in range(_SEND_ATTEMPTS):
            try:
                return self._sign_and_broadcast(call, fields, on_signed)
            except NonceConflict:
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise TransactionRejected(
            f"{call.description}: nonce kept conflicting after {_SEND_ATTEMPTS} attempts"
        )

    def wait(self, tx: SentTransaction | str, timeout: float | None = None) -> TxReceipt:
        """Wait until mined; ContractRevert (with .receipt) if it failed on-chain."""
        tx_hash, description = (
            (tx.tx_hash, tx.description) if isinstance(tx, SentTransaction) else (tx, f"transaction {tx}")
        )
        limit = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        delay = 0.02
        while (receipt := self.receipt_of(tx_hash)) is None:
            if time.monotonic() > deadline:
                raise TransactionTimeout(tx_hash, description, limit)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        if not receipt.succeeded:
            raise self.explain_failure(receipt).with_context(description, receipt)
        return receipt

    def transact(self, call: ContractCall, *, estimate: bool = True) -> TxReceipt:
        """send() then wait()."""
        return self.wait(self.send(call, estimate=estimate))

    def receipt_of(self, tx_hash: str) -> TxReceipt | None:
        """The receipt of a mined transaction (failed ones too), or None if not mined."""
        with node_errors("eth_getTransactionReceipt"):
            try:
                raw = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except (TransactionNotFound, TransactionIndexingInProgress):
                return None
        if raw is None or raw.get("blockNumber") is None:
            return None
        return _to_receipt(raw)

    def is_pending(self, tx_hash: str) -> bool:
        """True if the node knows the transaction but has not mined it yet."""
        with node_errors("eth_getTransactionByHash"):
            try:
                found = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                return False
        return found is not None and found.get("blockNumber") is None

    def explain_failure(self, receipt: TxReceipt) -> ContractRevert:
        """Why a mined transaction failed: replays it on the state before its block."""
        with node_errors("eth_getTransactionByHash"):
            tx = self.w3.eth.get_transaction(receipt.tx_hash)  # type: ignore[arg-type]
        if receipt.gas_used >= tx["gas"]:
            return ContractRevert("out_of_gas", f"ran out of gas (limit {tx['gas']})", receipt=receipt)
        replay = {"from": tx["from"], "data": tx["input"], "value": tx["value"], "gas": tx["gas"]}
        if tx.get("to"):
            replay["to"] = tx["to"]
        try:
            with node_errors(None):
                self.w3.eth.call(replay, block_identifier=max(receipt.block_number - 1, 0))  # type: ignore[arg-type]
        except ContractRevert as revert:
            return revert.with_context(None, receipt)
        return ContractRevert(
            "reverted", "reverted on-chain; replaying it did not reproduce the reason", receipt=receipt
        )

    def _sign_and_broadcast(self, call: ContractCall, fields: dict[str, Any],
                            on_signed: Callable[[SentTransaction], None] | None = None) -> SentTransaction:
        # The allocator lock spans allocation to acceptance so nonces reach the node in order.
        with self._nonces.lock:
            nonce = self._nonces.allocate()
            signed = self._account.sign_transaction({**fields, "nonce": nonce})
            sent = SentTransaction(
                tx_hash="0x" + bytes(signed.hash).hex(),
                nonce=nonce,
                sender=self.signer_address,
                to=call.address,
                gas_limit=fields["gas"],
                description=call.description,
                chain_id=self.chain_id,
            )
            if on_signed is not None:
                try:
                    on_signed(sent)
                except BaseException:
                    self._nonces.reset()
                    raise
            try:
                with node_errors(call.description):
                    self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except TransactionRejected as rejected:
                if "already known" in str(rejected).lower():
                    return sent  # an earlier attempt of this very transaction got through
                self._nonces.reset()
                raise
            except ChainUnavailable as unreachable:
                # The node may have received it: hand the hash over so the caller can check.
                self._nonces.reset()
                unreachable.sent = sent
                raise
            except BaseException:
                self._nonces.reset()
                raise
            return sent

    def _pending_nonce(self) -> int:
        with node_errors("eth_getTransactionCount"):
            return int(self.w3.eth.get_transaction_count(self._account.address, "pending"))

    def _gas_limit(self, call: ContractCall, fields: Mapping[str, Any]) -> int:
        request = {key: fields[key] for key in ("to", "data", "value") if key in fields}
        with node_errors(call.description):
            estimate = int(self.w3.eth.estimate_gas({**request, "from": self.signer_address}))  # type: ignore[typeddict-item]
        cap = self.gas_cap(call)
        if estimate > cap:
            raise GasCapExceeded(call.description, estimate, cap)
        return min(cap, estimate * 6 // 5)

    def gas_cap(self, call: ContractCall) -> int:
        """The call's cap under this client's gas limits: a deployment's limit, or the call
        limit scaled like the call's default (a batch of n items gets n times it)."""
        if self.gas_limits is None:
            return call.gas_cap
        deploy, per_call = self.gas_limits
        if call.address is None:
            return deploy
        scaled = call.gas_cap * per_call // CALL_GAS_CAP
        return max(1, min(scaled, BATCH_GAS_CAP_LIMIT))

    def _fees(self, description: str) -> dict[str, int]:
        with node_errors(description):
            base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas")
            if base_fee is None:
                return {"gasPrice": int(self.w3.eth.gas_price)}
            tip = int(self.w3.eth.max_priority_fee)
        # Twice the base fee survives several full blocks of base-fee increases.
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}


def _to_receipt(raw: Mapping[str, Any]) -> TxReceipt:
    contract_address = raw.get("contractAddress")
    return TxReceipt(
        tx_hash="0x" + bytes(raw["transactionHash"]).hex(),
        block_number=int(raw["blockNumber"]),
        succeeded=int(raw["status"]) == 1,
        gas_used=int(raw["gasUsed"]),
        effective_gas_price=int(raw.get("effectiveGasPrice") or 0),
        contract_address=Web3.to_checksum_address(contract_address) if contract_address else None,
        events=decode_logs(raw["logs"]),
    )
