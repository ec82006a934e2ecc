"""Open the chain client from settings, and turn chain errors into alefctl errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from alefctl.errors import AlefError, Conflict, Unavailable
from alefctl.redact import mask_secrets

if TYPE_CHECKING:
    from alefctl.settings import Settings
    from chain import ChainClient


def open_chain(settings: Settings) -> ChainClient:
    """The configured chain: ALEF_CHAIN_RPC_URL, else the embedded EVM in <home>/chain."""
    import chain

    key = settings.chain.private_key.get_secret_value() if settings.chain.private_key else None
    with chain_errors():
        return chain.connect(data_dir=settings.chain_dir, rpc_url=settings.chain.rpc_url,
                             private_key=key, key_file=settings.chain.key_file,
                             receipt_timeout=settings.chain.receipt_timeout_s,
                             gas_limits=(settings.chain.gas_limit_deploy,
                                         settings.chain.gas_limit_call))


@contextmanager
def chain_errors() -> Iterator[None]:
    """Map the chain package's exceptions onto the exit codes and HTTP statuses of alefctl; the
    messages name the node without its credentials (the chain package quotes the RPC URL)."""
    import chain

    try:
        yield
    except (chain.ChainUnavailable, chain.TransactionTimeout) as exc:
        raise Unavailable(f"chain unavailable: {mask_secrets(str(exc))}") from exc
    except chain.SignerNotAllowed as exc:
        raise Conflict(f"chain signer refused: {mask_secrets(str(exc))}",
                       code="signer_not_allowed") from exc
    except chain.ContractRevert as exc:
        raise AlefError(f"the contract refused: {mask_secrets(str(exc))}",
                        code="contract_revert") from exc
    except chain.ChainError as exc:
        raise AlefError(f"chain error: {mask_secrets(str(exc))}", code="chain_error") from exc
