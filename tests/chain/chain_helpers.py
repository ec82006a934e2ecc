"""Helpers shared by the chain tests (a plain module: tests/conftest.py owns the name conftest)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import chain
from chain import ChainClient, DeployResult
from chain.signer import DEV_ACCOUNT_KEYS

# Holder wallets: well-known dev accounts 1..9, funded on anvil and in the embedded genesis.
HOLDER_KEYS = DEV_ACCOUNT_KEYS[1:]
US, DE = 840, 276


def refused(rule: str, operation: Callable[..., object], *args: object) -> chain.ContractRevert:
    """Run operation(*args), assert a contract refused it under `rule`, return the error."""
    with pytest.raises(chain.ContractRevert) as refusal:
        operation(*args)
    assert refusal.value.rule == rule, str(refusal.value)
    return refusal.value


def register(client: ChainClient, suite: DeployResult, wallets: list[str], country: int = US) -> None:
    """Register wallets (as their own identities) in the suite's identity registry."""
    client.batch_register_identity(suite.identity_registry, wallets, [country] * len(wallets))
