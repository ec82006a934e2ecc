"""Open a ChainClient on the embedded chain of a data dir, or on a JSON-RPC node."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from chain.client import ChainClient
from chain.core import node_errors
from chain.signer import load_account


def connect(
    *,
    data_dir: Path | str | None = None,
    rpc_url: str | None = None,
    private_key: str | None = None,
    key_file: Path | str | None = None,
    receipt_timeout: float = 120.0,
    request_timeout: float = 30.0,
    gas_limits: tuple[int, int] | None = None,
) -> ChainClient:
    """A client signing with the given key (else the dev key, on dev chains only).

    rpc_url (anvil, Polygon Amoy or mainnet, any JSON-RPC over HTTP) wins when given;
    otherwise the embedded EVM whose state lives in data_dir (alefctl passes ALEF_HOME/chain).
    gas_limits (per deployment, per call) replace the calls' default gas caps.
    Raises ChainUnavailable if the node does not answer, SignerNotAllowed for a bad key.
    """
    if rpc_url:
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": request_timeout}), middleware=[])
        # Polygon blocks carry long extraData (proof of authority); harmless elsewhere.
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    elif data_dir is not None:
        from chain.embedded.provider import EmbeddedProvider  # py-evm loads only when used

        w3 = Web3(EmbeddedProvider(Path(data_dir)), middleware=[])
    else:
        raise ValueError("connect() needs rpc_url or data_dir (the embedded chain's directory)")
    with node_errors(f"connect to {rpc_url or 'the embedded chain'}"):
        chain_id = int(w3.eth.chain_id)
    account = load_account(private_key, Path(key_file) if key_file else None, chain_id)
    return ChainClient(w3, account, chain_id, receipt_timeout=receipt_timeout, gas_limits=gas_limits)
