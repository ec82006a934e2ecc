"""Helpers of the console tests: wait for the screen to settle, read table cells."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress

from textual.worker import WorkerCancelled

SIZE = (160, 48)


async def until(pilot, condition: Callable[[], object], timeout: float = 20.0) -> None:  # noqa: ANN001
    """Let workers run and the screen refresh until the condition holds."""
    deadline = time.monotonic() + timeout
    while True:
        with suppress(WorkerCancelled):  # an exclusive reload replaced an older one
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
        if time.monotonic() > deadline:
            shown = [n.message for n in pilot.app._notifications]
            raise AssertionError(f"the console did not reach the expected state in time;"
                                 f" notifications: {shown}")
        await asyncio.sleep(0.05)


def rows(table) -> list[list[str]]:  # noqa: ANN001
    """A DataTable's cells as plain strings."""
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]
