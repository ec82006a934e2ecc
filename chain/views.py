"""Read-only questions to the token, its identity registry and its compliance."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from chain.core import ChainCore


class ChainViews(ChainCore):
    """View functions of the deployed suite; amounts are token base units."""

    _compliance_by_token: dict[str, str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compliance_by_token = {}

    def balance_of(self, token: str, wallet: str) -> int:
        """Tokens held by wallet, frozen ones included."""
        return int(self.read("SecurityToken", token, "balanceOf", to_checksum_address(wallet)))

    def frozen_tokens(self, token: str, wallet: str) -> int:
        """Tokens of wallet that are partially frozen."""
        return int(self.read("SecurityToken", token, "getFrozenTokens", to_checksum_address(wallet)))

    def is_frozen(self, token: str, wallet: str) -> bool:
        """True if the whole wallet is frozen."""
        return bool(self.read("SecurityToken", token, "isFrozen", to_checksum_address(wallet)))

    def total_supply(self, token: str) -> int:
        """Total supply of the token."""
        return int(self.read("SecurityToken", token, "totalSupply"))

    def paused(self, token: str) -> bool:
        """True if holder transfers are paused."""
        return bool(self.read("SecurityToken", token, "paused"))

    def decimals(self, token: str) -> int:
        """Decimals of the token."""
        return int(self.read("SecurityToken", token, "decimals"))

    def symbol(self, token: str) -> str:
        """Symbol of the token."""
        return str(self.read("SecurityToken", token, "symbol"))

    def is_agent(self, contract: str, address: str, agent: str) -> bool:
        """True if agent is an agent of the IdentityRegistry or SecurityToken at address."""
        return bool(self.read(contract, address, "isAgent", to_checksum_address(agent)))

    def identity_registry_of(self, token: str) -> str:
        """Address of the token's identity registry."""
        return to_checksum_address(self.read("SecurityToken", token, "identityRegistry"))

    def compliance_of(self, token: str) -> str:
        """Address of the token's compliance contract (fixed at deployment, so cached)."""
        token = to_checksum_address(token)
        if token not in self._compliance_by_token:
            self._compliance_by_token[token] = to_checksum_address(
                self.read("SecurityToken", token, "compliance")
            )
        return self._compliance_by_token[token]

    def is_verified(self, identity_registry: str, wallet: str) -> bool:
        """True if wallet is registered (and so verified) in the identity registry."""
        return bool(
            self.read("IdentityRegistry", identity_registry, "isVerified", to_checksum_address(wallet))
        )

    def investor_country(self, identity_registry: str, wallet: str) -> int:
        """ISO-3166 numeric country registered for wallet (0 if not registered)."""
        return int(
            self.read("IdentityRegistry", identity_registry, "investorCountry", to_checksum_address(wallet))
        )

    def identity_of(self, identity_registry: str, wallet: str) -> str | None:
        """Identity registered for wallet, or None."""
        identity = to_checksum_address(
            self.read("IdentityRegistry", identity_registry, "identity", to_checksum_address(wallet))
        )
        return None if int(identity, 16) == 0 else identity

    def is_country_restricted(self, token: str, country: int) -> bool:
        """True if the token's compliance refuses receivers from country."""
        return bool(self.read("Compliance", self.compliance_of(token), "isCountryRestricted", country))

    def max_balance(self, token: str) -> int:
        """Maximum balance per wallet in base units under the token's compliance; 0: no limit."""
        return int(self.read("Compliance", self.compliance_of(token), "maxBalance"))

    def max_holders(self, token: str) -> int:
        """Maximum number of holders under the token's compliance; 0: no limit."""
        return int(self.read("Compliance", self.compliance_of(token), "maxHolders"))

    def holder_count(self, token: str) -> int:
        """Wallets holding the token, as counted by its compliance."""
        return int(self.read("Compliance", self.compliance_of(token), "holderCount"))

    def holder_transfers_open(self, token: str) -> bool:
        """False while the token is in platform custody: holder-signed transfers revert."""
        return bool(self.read("Compliance", self.compliance_of(token), "holderTransfersOpen"))
