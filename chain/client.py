"""ChainClient: the typed operations of the ERC-3643 suite, on top of sending and views.

Each job-like operation comes twice: `send_<op>` returns a SentTransaction as soon as the node
accepted it (record its hash and nonce, then `wait`), and `<op>` sends and waits. Idempotent
operations return None when there was nothing to do. Amounts are token base units.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_utils import to_checksum_address

from chain import calls
from chain.deploy import OnMined, OnSent, deploy_suite
from chain.results import DeployResult, SentTransaction, TxReceipt
from chain.views import ChainViews


class ChainClient(ChainViews):
    """Deploys and operates security tokens as the configured signer (owner and agent)."""

    def close(self) -> None:
        """Release the embedded chain's files, if any."""
        close = getattr(self.w3.provider, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> ChainClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _wait_for(self, sent: SentTransaction | None) -> TxReceipt | None:
        return None if sent is None else self.wait(sent)

    # ---- deployment ----

    def deploy_suite(
        self,
        name: str,
        symbol: str,
        decimals: int,
        *,
        recorded_hashes: dict[str, str] | None = None,
        on_sent: OnSent | None = None,
        on_mined: OnMined | None = None,
    ) -> DeployResult:
        """Deploy the suite in the spec's five transactions; resumes from recorded_hashes."""
        return deploy_suite(self, name, symbol, decimals, recorded_hashes, on_sent, on_mined)

    # ---- identities ----

    def send_register_identity(
        self, identity_registry: str, wallet: str, country: int, identity: str | None = None
    ) -> SentTransaction | None:
        """Register wallet (identity defaults to the wallet); None if already registered."""
        if self.identity_of(identity_registry, wallet) is not None:
            return None
        return self.send(calls.register_identity(identity_registry, wallet, country, identity))

    def register_identity(
        self, identity_registry: str, wallet: str, country: int, identity: str | None = None
    ) -> TxReceipt | None:
        """send_register_identity() then wait; None if already registered."""
        return self._wait_for(self.send_register_identity(identity_registry, wallet, country, identity))

    def send_batch_register_identity(
        self, identity_registry: str, wallets: Sequence[str], countries: Sequence[int]
    ) -> SentTransaction | None:
        """Register the wallets not yet registered (each as its own identity); None if none."""
        if len(wallets) != len(countries):
            raise ValueError("wallets and countries differ in length")
        pending: dict[str, int] = {}
        for wallet, country in zip(wallets, countries, strict=True):
            wallet = to_checksum_address(wallet)
            if wallet not in pending and self.identity_of(identity_registry, wallet) is None:
                pending[wallet] = country
        if not pending:
            return None
        return self.send(
            calls.batch_register_identity(identity_registry, list(pending), list(pending.values()))
        )

    def batch_register_identity(
        self, identity_registry: str, wallets: Sequence[str], countries: Sequence[int]
    ) -> TxReceipt | None:
        """send_batch_register_identity() then wait; None if all were registered."""
        return self._wait_for(self.send_batch_register_identity(identity_registry, wallets, countries))

    # ---- supply and settlement ----

    def send_mint(self, token: str, to: str, amount: int) -> SentTransaction:
        """mint(to, amount)."""
        return self.send(calls.mint(token, to, amount))

    def mint(self, token: str, to: str, amount: int) -> TxReceipt:
        """Mint and wait."""
        return self.wait(self.send_mint(token, to, amount))

    def send_batch_mint(self, token: str, tos: Sequence[str], amounts: Sequence[int]) -> SentTransaction:
        """batchMint(tos, amounts)."""
        return self.send(calls.batch_mint(token, tos, amounts))

    def batch_mint(self, token: str, tos: Sequence[str], amounts: Sequence[int]) -> TxReceipt:
        """Batch mint and wait."""
        return self.wait(self.send_batch_mint(token, tos, amounts))

    def send_burn(self, token: str, wallet: str, amount: int) -> SentTransaction:
        """burn(wallet, amount)."""
        return self.send(calls.burn(token, wallet, amount))

    def burn(self, token: str, wallet: str, amount: int) -> TxReceipt:
        """Burn and wait."""
        return self.wait(self.send_burn(token, wallet, amount))

    def send_forced_transfer(
        self, token: str, from_wallet: str, to_wallet: str, amount: int
    ) -> SentTransaction:
        """forcedTransfer(from, to, amount): the settlement transfer."""
        return self.send(calls.forced_transfer(token, from_wallet, to_wallet, amount))

    def forced_transfer(self, token: str, from_wallet: str, to_wallet: str, amount: int) -> TxReceipt:
        """Forced transfer and wait."""
        return self.wait(self.send_forced_transfer(token, from_wallet, to_wallet, amount))

    def send_batch_forced_transfer(
        self, token: str, from_wallets: Sequence[str], to_wallets: Sequence[str], amounts: Sequence[int]
    ) -> SentTransaction:
        """batchForcedTransfer(froms, tos, amounts): settles many trades in one transaction."""
        return self.send(calls.batch_forced_transfer(token, from_wallets, to_wallets, amounts))

    def batch_forced_transfer(
        self, token: str, from_wallets: Sequence[str], to_wallets: Sequence[str], amounts: Sequence[int]
    ) -> TxReceipt:
        """Batch forced transfer and wait."""
        return self.wait(self.send_batch_forced_transfer(token, from_wallets, to_wallets, amounts))

    # ---- administration ----

    def pause(self, token: str) -> TxReceipt | None:
        """Pause holder transfers; None if already paused."""
        return None if self.paused(token) else self.transact(calls.pause(token))

    def unpause(self, token: str) -> TxReceipt | None:
        """Resume holder transfers; None if not paused."""
        return self.transact(calls.unpause(token)) if self.paused(token) else None

    def set_address_frozen(self, token: str, wallet: str, frozen: bool) -> TxReceipt:
        """Freeze (or unfreeze) a whole wallet."""
        return self.transact(calls.set_address_frozen(token, wallet, frozen))

    def freeze_partial_tokens(self, token: str, wallet: str, amount: int) -> TxReceipt:
        """Freeze part of a wallet's balance."""
        return self.transact(calls.freeze_partial_tokens(token, wallet, amount))

    def unfreeze_partial_tokens(self, token: str, wallet: str, amount: int) -> TxReceipt:
        """Release part of a wallet's frozen tokens."""
        return self.transact(calls.unfreeze_partial_tokens(token, wallet, amount))

    def recover_wallet(
        self, token: str, lost_wallet: str, new_wallet: str, identity: str | None = None
    ) -> TxReceipt:
        """Move a lost wallet's tokens, freeze state and registration to a new wallet."""
        if identity is None:
            identity = self.identity_of(self.identity_registry_of(token), lost_wallet) or lost_wallet
        return self.transact(calls.recover_wallet(token, lost_wallet, new_wallet, identity))

    def restrict_countries(self, token: str, countries: Sequence[int]) -> TxReceipt | None:
        """Refuse receivers from these countries; None if all were already restricted."""
        todo = sorted({c for c in countries if not self.is_country_restricted(token, c)})
        return self.transact(calls.restrict_countries(self.compliance_of(token), todo)) if todo else None

    def unrestrict_countries(self, token: str, countries: Sequence[int]) -> TxReceipt | None:
        """Accept receivers from these countries again; None if none was restricted."""
        todo = sorted({c for c in countries if self.is_country_restricted(token, c)})
        return self.transact(calls.unrestrict_countries(self.compliance_of(token), todo)) if todo else None

    def set_max_balance(self, token: str, max_balance: int) -> TxReceipt:
        """Cap the balance of any one wallet (base units); 0 removes the cap."""
        return self.transact(calls.set_max_balance(self.compliance_of(token), max_balance))

    def set_max_holders(self, token: str, max_holders: int) -> TxReceipt:
        """Cap the number of holders; 0 removes the cap."""
        return self.transact(calls.set_max_holders(self.compliance_of(token), max_holders))

    def set_holder_transfers_open(self, token: str, open_: bool) -> TxReceipt | None:
        """Open or close holder-signed transfers; None if already so."""
        if self.holder_transfers_open(token) == open_:
            return None
        return self.transact(calls.set_holder_transfers_open(self.compliance_of(token), open_))
