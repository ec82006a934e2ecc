"""web3 provider for the embedded chain: eth-tester over py-evm, state in a data directory.

Design (in-process, no server): every JSON-RPC request takes the data dir's exclusive lock,
opens one SQLite transaction, reloads the chain head from the store (another process may
have moved it), and runs the request through eth-tester, which mines each transaction into
its own block at once. So every process that opens the same data dir sees one chain, two
processes never interleave inside a request, and a crash rolls back the whole request.
Errors are returned in the shape a real node uses (code 3 + revert data, "nonce too low"),
so the client above handles the embedded chain and anvil or Polygon with the same code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eth.db.atomic import AtomicDB
from eth_tester import EthereumTester
from eth_tester.exceptions import TransactionFailed
from eth_tester.exceptions import ValidationError as TesterValidationError
from eth_utils import ValidationError as EVMValidationError
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

from chain.embedded.backend import PersistentPyEVMBackend, RevertWithData
from chain.embedded.store import ChainLock, SqliteKeyValueStore

STORE_FILE = "evm.sqlite3"
LOCK_FILE = "evm.lock"
_NONCE_MISMATCH = re.compile(r"Invalid transaction nonce: Expected (\d+), but got (\d+)")


class EmbeddedProvider(EthereumTesterProvider):
    """A web3 provider whose chain lives in `data_dir` and is shared by every process."""

    def __init__(self, data_dir: Path, lock_timeout_seconds: float = 60.0) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self._store = SqliteKeyValueStore(data_dir / STORE_FILE)
        self._lock = ChainLock(data_dir / LOCK_FILE, lock_timeout_seconds)
        self._backend = PersistentPyEVMBackend(AtomicDB(self._store))
        with self._lock.held(), self._store.transaction():
            self._backend.reload()  # writes the genesis block on first use
        super().__init__(EthereumTester(backend=self._backend, auto_mine_transactions=True))

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Run one JSON-RPC request atomically against the shared chain."""
        try:
            with self._lock.held(), self._store.transaction():
                self._backend.reload()
                return super().make_request(method, params)
        except RevertWithData as revert:
            return _error(3, "execution reverted", "0x" + revert.data.hex())
        except (EVMValidationError, TesterValidationError) as invalid:
            return _error(-32000, _node_style_message(str(invalid)))
        except TransactionFailed as failed:
            return _error(-32000, str(failed))

    def close(self) -> None:
        """Release the store and the lock file."""
        self._store.close()
        self._lock.close()


def _error(code: int, message: str, data: str | None = None) -> RPCResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": 0, "error": error}  # type: ignore[typeddict-item]


def _node_style_message(message: str) -> str:
    """Phrase py-evm's nonce errors as geth and anvil do, so one client rule handles all."""
    match = _NONCE_MISMATCH.search(message)
    if match is None:
        return message
    expected, got = int(match.group(1)), int(match.group(2))
    return f"nonce too {'low' if got < expected else 'high'}: {message}"
