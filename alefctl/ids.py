"""Primary keys are UUID v7 (RFC 9562): time-ordered, so B-tree inserts stay local.

Layout: 48 bits of Unix time in milliseconds; the version; 12 bits of sub-millisecond time (the
RFC's method 3), so one process's ids sort in creation order to 1/4096 ms and never run ahead of
the clock (a counter that borrows from the next millisecond does under load); the variant; 62
bits from the operating system's random source, drawn in blocks (one system call per 512 ids).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_RANDOM_BLOCK = 4096  # bytes of randomness per system call
_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62
_LOW_62 = (1 << 62) - 1


class _RandomPool:
    """Random 64-bit words from os.urandom, a block at a time; shared by the process's threads
    and emptied in a forked child (it must not reuse its parent's words)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._offset = 0
        os.register_at_fork(after_in_child=self._forget)

    def word(self) -> int:
        with self._lock:
            if self._offset + 8 > len(self._block):
                self._block, self._offset = os.urandom(_RANDOM_BLOCK), 0
            start = self._offset
            self._offset += 8
            return int.from_bytes(self._block[start:start + 8])

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._block, self._offset = b"", 0


_pool = _RandomPool()


def new_id() -> uuid.UUID:
    """Return a new UUID v7 as a standard uuid.UUID."""
    milliseconds, nanoseconds = divmod(time.time_ns(), 1_000_000)
    sub_millisecond = nanoseconds * 4096 // 1_000_000
    return uuid.UUID(int=(milliseconds << 80) | _VERSION_7 | (sub_millisecond << 64) | _VARIANT
                     | (_pool.word() & _LOW_62))


def parse_id(raw: str, *, field: str = "id") -> uuid.UUID:
    """Parse a UUID given by a user, or raise InvalidInput naming the field."""
    from alefctl.errors import InvalidInput

    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise InvalidInput(f"{field} is not a valid UUID: {raw!r}", field=field) from None


# A UUID v7 computed in SQL for set-based inserts (PostgreSQL 16 has no uuidv7()): 48 bits of
# Unix milliseconds, version 7, variant 10, and 74 bits from random(). random() is a fast PRNG:
# four times cheaper than gen_random_uuid() here; these ids must be unique (the primary key
# sees to it), not unguessable.
UUID_V7_SQL = (
    "CAST(encode(int8send((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16)"
    " | 28672 | floor(random() * 4096)::bigint) || int8send(-9223372036854775808"
    " | (floor(random() * 2147483648)::bigint << 31) | floor(random() * 2147483648)::bigint),"
    " 'hex') AS uuid)"
)
