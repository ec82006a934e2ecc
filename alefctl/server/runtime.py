"""The garbage collector of a server process, set for latency."""

from __future__ import annotations

import gc


def quiet_garbage_collector() -> None:
    """Call once a server process has loaded what it keeps (modules, app, books).

    By default CPython's cyclic collector pauses a busy server for 50-125 ms several times a
    minute, each pause scanning every object the process holds; every order in flight waits (it
    was most of the order API's p99). What exists now lives as long as the process, so it is
    frozen out of the scans; young objects are collected less often and in larger batches (a
    few ms each), and a full collection comes about once a minute under load instead of every
    few seconds.
    """
    gc.freeze()
    gc.set_threshold(10_000, 20, 10)
