"""Primary keys: UUID v7 layout, creation order, no repeats, no drift ahead of the clock."""

from __future__ import annotations

import os
import time
import uuid

from alefctl.ids import new_id, parse_id


def test_new_ids_are_version_7_in_creation_order_and_on_the_clock() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = [new_id() for _ in range(20_000)]  # far more than one per millisecond
    after_ms = time.time_ns() // 1_000_000

    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    timestamps = [i.int >> 80 for i in ids]
    assert before_ms <= timestamps[0] and timestamps[-1] <= after_ms  # never ahead of the clock
    time_fields = [i.int >> 64 for i in ids]  # milliseconds, version, sub-millisecond
    assert time_fields == sorted(time_fields)


def test_random_bits_differ_between_ids_and_after_a_fork() -> None:
    low = [new_id().int & ((1 << 62) - 1) for _ in range(1_000)]
    assert len(set(low)) == len(low)

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must not reuse the parent's block of random words
        os.write(write_end, new_id().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child_id = uuid.UUID(bytes=os.read(read_end, 16))
    assert child_id.int & ((1 << 62) - 1) != new_id().int & ((1 << 62) - 1)


def test_parse_id_names_the_field() -> None:
    from alefctl.errors import InvalidInput

    known = new_id()
    assert parse_id(str(known)) == known
    try:
        parse_id("nope", field="order_id")
    except InvalidInput as error:
        assert error.field == "order_id"
    else:
        raise AssertionError("a bad id was accepted")
