"""Typed results of chain operations: what was sent, what was mined, what a deploy produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SentTransaction:
    """A transaction accepted by the node; record tx_hash and nonce before waiting for it."""

    tx_hash: str
    nonce: int
    sender: str
    to: str | None
    gas_limit: int
    description: str
    chain_id: int


@dataclass(frozen=True)
class DecodedEvent:
    """One log of a receipt, decoded with the ABIs of our contracts."""

    name: str
    address: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class TxReceipt:
    """A mined transaction: status, gas used and the decoded events."""

    tx_hash: str
    block_number: int
    succeeded: bool
    gas_used: int
    effective_gas_price: int
    contract_address: str | None
    events: tuple[DecodedEvent, ...]

    @property
    def fee_wei(self) -> int:
        """What the transaction cost the sender, in wei."""
        return self.gas_used * self.effective_gas_price

    def events_named(self, name: str) -> list[DecodedEvent]:
        """The events of this receipt with the given name, in log order."""
        return [event for event in self.events if event.name == name]


@dataclass(frozen=True)
class DeployStep:
    """One of the five transactions of a suite deployment.

    tx_hash is None (and gas_used 0) only for an agent grant found already done on resume
    whose transaction hash had not been recorded.
    """

    step: str
    tx_hash: str | None
    gas_used: int


@dataclass(frozen=True)
class DeployResult:
    """The deployed suite: its three addresses and the five transactions that made it."""

    identity_registry: str
    compliance: str
    token: str
    steps: tuple[DeployStep, ...]

    @property
    def total_gas_used(self) -> int:
        """Gas of all five transactions."""
        return sum(step.gas_used for step in self.steps)

    @property
    def tx_hashes(self) -> dict[str, str | None]:
        """Transaction hash per step name."""
        return {step.step: step.tx_hash for step in self.steps}
