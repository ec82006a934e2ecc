"""The one exception tree of the chain package: every failure is a ChainError."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chain.results import SentTransaction, TxReceipt


class ChainError(Exception):
    """Base of every error raised by the chain package."""


class ChainUnavailable(ChainError):
    """The node cannot be reached (or the embedded chain stayed locked); safe to retry.

    When it happens while broadcasting, `sent` holds the transaction that may or may not have
    reached the node: record it and ask receipt_of / is_pending before sending again.
    """

    sent: SentTransaction | None = None


class SignerNotAllowed(ChainError):
    """The configured key may not sign here (the dev key on a non-dev chain, a bad key)."""


class TransactionRejected(ChainError):
    """The node refused to accept a transaction (funds, fees, nonce); nothing was sent."""


class GasCapExceeded(ChainError):
    """The gas estimate is above the cap for this kind of transaction; nothing was sent."""

    def __init__(self, description: str, estimate: int, cap: int) -> None:
        super().__init__(f"{description}: estimated gas {estimate} exceeds the cap {cap}")
        self.estimate = estimate
        self.cap = cap


class TransactionTimeout(ChainError):
    """A sent transaction was not mined in time; ask receipt_of(tx_hash) or wait again later."""

    def __init__(self, tx_hash: str, description: str, timeout_seconds: float) -> None:
        super().__init__(f"{description}: transaction {tx_hash} not mined within {timeout_seconds:g}s")
        self.tx_hash = tx_hash


class ContractRevert(ChainError):
    """A contract refused: `rule` names the rule (e.g. 'receiver_not_verified').

    Raised before sending when gas estimation reverts (receipt is None), or after mining when
    the transaction failed on-chain (receipt holds the gas that was spent).
    """

    def __init__(
        self,
        rule: str,
        message: str,
        error_name: str | None = None,
        error_args: dict[str, Any] | None = None,
        data: bytes = b"",
        receipt: TxReceipt | None = None,
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.error_name = error_name
        self.error_args = error_args or {}
        self.data = data
        self.receipt = receipt

    def with_context(self, description: str | None, receipt: TxReceipt | None = None) -> ContractRevert:
        """Same revert, with the operation named in the message (and the receipt if mined)."""
        return ContractRevert(
            self.rule,
            f"{description}: {self.message}" if description else self.message,
            self.error_name,
            self.error_args,
            self.data,
            receipt if receipt is not None else self.receipt,
        )


class AnvilNotFound(ChainError):
    """No anvil binary was found; the message says how to install one."""
