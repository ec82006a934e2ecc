"""The counts of a settlement run, kept by the runner and the transfer steps it calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class SettlementReport:
    """What one run did; deferred trades stay pending for a later run or another runner."""

    claimed: int = 0
    settled_off_chain: int = 0
    settled_on_chain: int = 0
    retrying: int = 0
    failed: int = 0
    in_flight: int = 0
    requeued: int = 0
    deferred: int = 0
    transactions: int = 0
    chain_error: str | None = None
    # The attempts that failed: {"trade_id", "status" ('failed', or 'pending' to retry), "error"}
    failures: list[dict[str, Any]] = field(default_factory=list)
    claimed_ids: set[uuid.UUID] = field(default_factory=set, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "claimed_ids"}

    def add(self, other: SettlementReport) -> None:
        """Add another run's counts to this one."""
        for name, value in other.to_dict().items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.chain_error = other.chain_error or self.chain_error
        self.failures += other.failures
        self.claimed_ids |= other.claimed_ids

    def summary(self) -> str:
        """One line for people and logs."""
        line = (f"settled {self.settled_on_chain} on-chain, {self.settled_off_chain} off-chain;"
                f" {self.retrying} to retry, {self.failed} failed, {self.in_flight} in flight,"
                f" {self.requeued} re-queued, {self.deferred} deferred")
        return line + (f" (chain: {self.chain_error})" if self.chain_error else "")
