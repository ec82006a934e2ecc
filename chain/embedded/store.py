"""A file-backed key-value store for py-evm, and the inter-process lock around it.

py-evm keeps all chain state (trie nodes, headers, receipts, the canonical head) in a small
get/set/delete database. Putting that database in SQLite makes the embedded chain survive the
process; the exclusive file lock makes each JSON-RPC request of each process atomic, and the
SQLite transaction per request means a crash mid-request leaves the previous head intact.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth.db.backends.base import BaseDB

from chain.errors import ChainUnavailable

_SCHEMA = "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"


class SqliteKeyValueStore(BaseDB):
    """py-evm database backend: one SQLite table of bytes to bytes."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL stays consistent after a crash; it may lose the last
        # commits only on power loss, which a dev chain can afford for the speed.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    def __getitem__(self, key: bytes) -> bytes:
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))

    def __delitem__(self, key: bytes) -> None:
        if self._conn.execute("DELETE FROM kv WHERE key = ?", (key,)).rowcount == 0:
            raise KeyError(key)

    def _exists(self, key: bytes) -> bool:
        return self._conn.execute("SELECT 1 FROM kv WHERE key = ?", (key,)).fetchone() is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block as one SQLite transaction: committed on success, rolled back on error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the SQLite connection."""
        self._conn.close()


class ChainLock:
    """Exclusive lock for one data dir: a thread lock inside the process, flock across processes."""

    def __init__(self, path: Path, timeout_seconds: float = 60.0) -> None:
        self._path = path
        self._timeout_seconds = timeout_seconds
        self._thread_lock = threading.Lock()
        self._fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o644)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the duration of the block; ChainUnavailable after the timeout."""
        if not self._thread_lock.acquire(timeout=self._timeout_seconds):
            raise ChainUnavailable(f"embedded chain busy in this process ({self._path})")
        try:
            self._acquire_file_lock()
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _acquire_file_lock(self) -> None:
        deadline = time.monotonic() + self._timeout_seconds
        delay = 0.001
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ChainUnavailable(
                        f"embedded chain locked by another process for over "
                        f"{self._timeout_seconds:.0f}s ({self._path})"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def close(self) -> None:
        """Release the lock file descriptor."""
        os.close(self._fd)
