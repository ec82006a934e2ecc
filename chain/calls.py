"""What to send, without sending it: one builder per contract operation.

A ContractCall names the contract, the function and its arguments, and carries the gas cap
(spec: 3M per deployment, 300K per call; batches get 300K per item). `ChainClient.send(call)`
signs and broadcasts it; the typed methods of ChainClient are thin wrappers around these.
Amounts are token base units (quantity * 10**decimals). Argument checks that the contracts
make themselves (array lengths, roles) are left to them, so there is one source of truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

DEPLOY_GAS_CAP = 3_000_000
CALL_GAS_CAP = 300_000
# A batch's cap never exceeds a usual block gas limit (Ethereum, Polygon PoS, anvil: 30M).
BATCH_GAS_CAP_LIMIT = 30_000_000


@dataclass(frozen=True)
class ContractCall:
    """A transaction to send: a deployment (address None) or a function call."""

    contract: str
    address: str | None
    function: str | None
    args: tuple[Any, ...]
    gas_cap: int

    @property
    def description(self) -> str:
        """Human name of the operation, e.g. 'SecurityToken.mint'."""
        return f"{self.contract}.{self.function or 'deploy'}"


def _addr(address: str) -> str:
    return to_checksum_address(address)


def _addrs(addresses: Sequence[str]) -> list[str]:
    return [to_checksum_address(a) for a in addresses]


def _call(contract: str, address: str, function: str, *args: Any, items: int = 1) -> ContractCall:
    return ContractCall(
        contract, _addr(address), function, args, min(CALL_GAS_CAP * max(1, items), BATCH_GAS_CAP_LIMIT)
    )


def deploy_identity_registry() -> ContractCall:
    """TX1: IdentityRegistry()."""
    return ContractCall("IdentityRegistry", None, None, (), DEPLOY_GAS_CAP)


def deploy_compliance(identity_registry: str) -> ContractCall:
    """TX2: Compliance(identityRegistry)."""
    return ContractCall("Compliance", None, None, (_addr(identity_registry),), DEPLOY_GAS_CAP)


def deploy_token(
    name: str, symbol: str, decimals: int, identity_registry: str, compliance: str
) -> ContractCall:
    """TX3: SecurityToken(name, symbol, decimals, IR, compliance); binds IR and compliance."""
    args = (name, symbol, decimals, _addr(identity_registry), _addr(compliance))
    return ContractCall("SecurityToken", None, None, args, DEPLOY_GAS_CAP)


def add_agent(contract: str, address: str, agent: str) -> ContractCall:
    """addAgent(agent) on the IdentityRegistry or the SecurityToken (owner only)."""
    return _call(contract, address, "addAgent", _addr(agent))


def remove_agent(contract: str, address: str, agent: str) -> ContractCall:
    """removeAgent(agent) on the IdentityRegistry or the SecurityToken (owner only)."""
    return _call(contract, address, "removeAgent", _addr(agent))


def register_identity(
    identity_registry: str, wallet: str, country: int, identity: str | None = None
) -> ContractCall:
    """registerIdentity(wallet, identity, country); the identity defaults to the wallet itself."""
    return _call(
        "IdentityRegistry",
        identity_registry,
        "registerIdentity",
        _addr(wallet),
        _addr(identity or wallet),
        country,
    )


def batch_register_identity(
    identity_registry: str,
    wallets: Sequence[str],
    countries: Sequence[int],
    identities: Sequence[str] | None = None,
) -> ContractCall:
    """batchRegisterIdentity(wallets, identities, countries); identities default to the wallets."""
    return _call(
        "IdentityRegistry",
        identity_registry,
        "batchRegisterIdentity",
        _addrs(wallets),
        _addrs(identities if identities is not None else wallets),
        list(countries),
        items=len(wallets),
    )


def delete_identity(identity_registry: str, wallet: str) -> ContractCall:
    """deleteIdentity(wallet)."""
    return _call("IdentityRegistry", identity_registry, "deleteIdentity", _addr(wallet))


def update_country(identity_registry: str, wallet: str, country: int) -> ContractCall:
    """updateCountry(wallet, country)."""
    return _call("IdentityRegistry", identity_registry, "updateCountry", _addr(wallet), country)


def mint(token: str, to: str, amount: int) -> ContractCall:
    """mint(to, amount): agent only, receiver verified and compliant."""
    return _call("SecurityToken", token, "mint", _addr(to), amount)


def batch_mint(token: str, tos: Sequence[str], amounts: Sequence[int]) -> ContractCall:
    """batchMint(tos, amounts)."""
    return _call("SecurityToken", token, "batchMint", _addrs(tos), list(amounts), items=len(tos))


def burn(token: str, wallet: str, amount: int) -> ContractCall:
    """burn(wallet, amount): agent only; unfreezes the shortfall if free tokens do not cover it."""
    return _call("SecurityToken", token, "burn", _addr(wallet), amount)


def batch_burn(token: str, wallets: Sequence[str], amounts: Sequence[int]) -> ContractCall:
    """batchBurn(wallets, amounts)."""
    return _call("SecurityToken", token, "batchBurn", _addrs(wallets), list(amounts), items=len(wallets))


def forced_transfer(token: str, from_wallet: str, to_wallet: str, amount: int) -> ContractCall:
    """forcedTransfer(from, to, amount): agent only; ignores pause and freeze, not compliance."""
    return _call("SecurityToken", token, "forcedTransfer", _addr(from_wallet), _addr(to_wallet), amount)


def batch_forced_transfer(
    token: str, from_wallets: Sequence[str], to_wallets: Sequence[str], amounts: Sequence[int]
) -> ContractCall:
    """batchForcedTransfer(froms, tos, amounts)."""
    return _call(
        "SecurityToken",
        token,
        "batchForcedTransfer",
        _addrs(from_wallets),
        _addrs(to_wallets),
        list(amounts),
        items=len(from_wallets),
    )


def transfer(token: str, to: str, amount: int) -> ContractCall:
    """transfer(to, amount) by the signer as a holder."""
    return _call("SecurityToken", token, "transfer", _addr(to), amount)


def pause(token: str) -> ContractCall:
    """pause(): blocks holder transfers."""
    return _call("SecurityToken", token, "pause")


def unpause(token: str) -> ContractCall:
    """unpause()."""
    return _call("SecurityToken", token, "unpause")


def set_address_frozen(token: str, wallet: str, frozen: bool) -> ContractCall:
    """setAddressFrozen(wallet, frozen)."""
    return _call("SecurityToken", token, "setAddressFrozen", _addr(wallet), frozen)


def batch_set_address_frozen(token: str, wallets: Sequence[str], frozen: Sequence[bool]) -> ContractCall:
    """batchSetAddressFrozen(wallets, frozen)."""
    return _call(
        "SecurityToken", token, "batchSetAddressFrozen", _addrs(wallets), list(frozen), items=len(wallets)
    )


def freeze_partial_tokens(token: str, wallet: str, amount: int) -> ContractCall:
    """freezePartialTokens(wallet, amount)."""
    return _call("SecurityToken", token, "freezePartialTokens", _addr(wallet), amount)


def unfreeze_partial_tokens(token: str, wallet: str, amount: int) -> ContractCall:
    """unfreezePartialTokens(wallet, amount)."""
    return _call("SecurityToken", token, "unfreezePartialTokens", _addr(wallet), amount)


def recover_wallet(token: str, lost_wallet: str, new_wallet: str, identity: str) -> ContractCall:
    """recoveryAddress(lost, new, identity): moves balance, freeze state and registration."""
    return _call(
        "SecurityToken", token, "recoveryAddress", _addr(lost_wallet), _addr(new_wallet), _addr(identity)
    )


def restrict_countries(compliance: str, countries: Sequence[int]) -> ContractCall:
    """batchRestrictCountries(countries) on the compliance (owner only)."""
    return _call("Compliance", compliance, "batchRestrictCountries", list(countries), items=len(countries))


def unrestrict_countries(compliance: str, countries: Sequence[int]) -> ContractCall:
    """batchUnrestrictCountries(countries) on the compliance (owner only)."""
    return _call("Compliance", compliance, "batchUnrestrictCountries", list(countries), items=len(countries))


def set_max_balance(compliance: str, max_balance: int) -> ContractCall:
    """setMaxBalance(max): per-wallet cap in base units; 0 removes the cap."""
    return _call("Compliance", compliance, "setMaxBalance", max_balance)


def set_max_holders(compliance: str, max_holders: int) -> ContractCall:
    """setMaxHolders(max): most wallets that may hold the token; 0 removes the cap."""
    return _call("Compliance", compliance, "setMaxHolders", max_holders)


def set_holder_transfers_open(compliance: str, open_: bool) -> ContractCall:
    """setHolderTransfersOpen(open): false (the default) keeps the token in platform custody."""
    return _call("Compliance", compliance, "setHolderTransfersOpen", open_)
