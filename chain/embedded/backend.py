"""eth-tester's py-evm backend over a persistent database, reloaded from it for each request."""

from __future__ import annotations

from typing import Any

from eth.abc import AtomicDatabaseAPI
from eth.chains.base import MiningChain
from eth.exceptions import CanonicalHeadNotFound, Revert
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.forks import PragueVM
from eth.vm.spoof import SpoofTransaction
from eth_keys import keys
from eth_tester.backends.pyevm.main import (
    PyEVMBackend,
    generate_genesis_state_for_keys,
    get_default_genesis_params,
)
from eth_tester.backends.pyevm.serializers import serialize_transaction, serialize_transaction_receipt
from eth_tester.exceptions import TransactionFailed, TransactionNotFound
from eth_utils import encode_hex, to_wei
from eth_utils.toolz import assoc

from chain.signer import DEV_ACCOUNT_KEYS, EMBEDDED_CHAIN_ID


class RevertWithData(Exception):
    """A call or gas estimate reverted; carries the raw revert data for the JSON-RPC error."""

    def __init__(self, data: bytes) -> None:
        super().__init__("execution reverted")
        self.data = data


def _run_and_revert(state: Any, transaction: Any) -> Any:
    snapshot = state.snapshot()
    try:
        return state.apply_transaction(transaction)
    finally:
        state.revert(snapshot)


def quick_gas_estimate(state: Any, transaction: Any) -> int:
    """Gas a transaction needs, in about two executions instead of py-evm's ~13.

    One run at the block gas limit measures the gas consumed before refunds; that figure,
    raised a little at a time for the 1/64 that calls keep back, is confirmed by a second run.
    """
    computation = _run_and_revert(state, SpoofTransaction(transaction, gas=state.gas_limit, gas_price=0))
    if computation.is_error:
        raise computation.error
    candidate = state.gas_limit - computation.get_gas_remaining()
    while candidate < state.gas_limit:
        trial = _run_and_revert(state, SpoofTransaction(transaction, gas=candidate, gas_price=0))
        if not trial.is_error:
            return candidate
        candidate += candidate // 32 + 1
    return state.gas_limit


class EmbeddedChain(MiningChain):
    """The same chain as eth-tester's default (Prague, post-merge, constant gas limit)."""

    chain_id = EMBEDDED_CHAIN_ID
    vm_configuration = ((0, PragueVM),)  # type: ignore[assignment]
    gas_estimator = staticmethod(quick_gas_estimate)

    def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
        """Child header with the parent's gas limit, as eth-tester does."""
        return super().create_header_from_parent(
            parent_header, **assoc(header_params, "gas_limit", parent_header.gas_limit)
        )

    def get_transaction_builder(self) -> Any:
        """Transaction builder of the current VM (eth-tester calls this)."""
        return super().get_vm().get_transaction_builder()


class PersistentPyEVMBackend(PyEVMBackend):
    """PyEVMBackend whose chain lives in `base_db`; call `reload()` before each request.

    Differences from eth-tester's backend: genesis funds the ten well-known dev accounts
    (10,000 ETH each, like anvil); transactions are looked up through py-evm's hash index
    instead of a scan of every block; reverts keep their raw data.
    """

    chain: Any

    def __init__(self, base_db: AtomicDatabaseAPI) -> None:
        # PyEVMBackend.__init__ would build a throwaway in-memory chain; set up ours instead.
        self._base_db = base_db
        self.account_keys = tuple(keys.PrivateKey(bytes.fromhex(k[2:])) for k in DEV_ACCOUNT_KEYS)
        self.chain = None

    def reload(self) -> None:
        """Point at the head stored in the database (another process may have moved it)."""
        try:
            self.chain = EmbeddedChain(self._base_db)
        except CanonicalHeadNotFound:
            genesis_state = generate_genesis_state_for_keys(
                self.account_keys, overrides={"balance": to_wei(10_000, "ether")}
            )
            self.chain = EmbeddedChain.from_genesis(
                self._base_db, get_default_genesis_params(), genesis_state
            )

    def _locate_transaction(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        try:
            block_number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound:
            raise TransactionNotFound(
                f"No transaction found for hash {encode_hex(transaction_hash)}"
            ) from None
        block = self.chain.get_canonical_block_by_number(block_number)
        return block, block.transactions[index], index

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        """Mined transaction by hash, through the index."""
        block, transaction, index = self._locate_transaction(transaction_hash)
        return serialize_transaction(block, transaction, index, False)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        """Receipt by hash, through the index."""
        block, transaction, index = self._locate_transaction(transaction_hash)
        receipts = block.get_receipts(self.chain.chaindb)
        return serialize_transaction_receipt(block, receipts, transaction, index, False, self.chain.get_vm())

    def call(self, transaction: dict[str, Any], block_number: Any = "latest") -> bytes:
        """eth_call that keeps the raw revert data (eth-tester turns it into a string)."""
        defaulted = (
            transaction if "gas" in transaction else assoc(transaction, "gas", self._max_available_gas())
        )
        unsigned = self._get_normalized_and_unsigned_evm_transaction(defaulted, block_number)
        spoofed = SpoofTransaction(unsigned, from_=transaction["from"])
        vm = self.chain.get_vm(at_header=self._header_at(block_number))
        snapshot = vm.state.snapshot()
        computation = vm.state.apply_transaction(spoofed)
        vm.state.revert(snapshot)
        if computation.is_error:
            error = computation.error
            if isinstance(error, Revert):
                raise RevertWithData(bytes(error.args[0]) if error.args else b"")
            raise TransactionFailed(str(error))
        return computation.output

    def estimate_gas(self, transaction: dict[str, Any], block_number: Any = "latest") -> int:
        """eth_estimateGas that keeps the raw revert data."""
        try:
            return super().estimate_gas(transaction, block_number)
        except TransactionFailed as failure:
            cause = failure.__cause__
            if isinstance(cause, Revert):
                raise RevertWithData(bytes(cause.args[0]) if cause.args else b"") from None
            raise

    def _header_at(self, block_number: Any) -> Any:
        head = self.chain.get_canonical_head()
        if block_number in ("latest", "safe", "finalized", "pending", None):
            return head
        if block_number == "earliest":
            return self.chain.get_canonical_block_header_by_number(0)
        return self.chain.get_canonical_block_header_by_number(min(int(block_number), head.block_number))
