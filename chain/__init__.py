"""alefctl's on-chain layer: the ERC-3643 suite (IdentityRegistry, Compliance, SecurityToken)
and a client for the embedded EVM, anvil or Polygon. Knows nothing of alefctl itself.

    client = chain.connect(data_dir=home / "chain")            # or rpc_url="http://..."
    suite = client.deploy_suite("Acme", "ACME", 0)
    client.register_identity(suite.identity_registry, wallet, 840)
    sent = client.send_mint(suite.token, wallet, 100)          # record sent.tx_hash, sent.nonce
    receipt = client.wait(sent)                                # receipt.gas_used, receipt.events

See chain/README.md for the design of the embedded chain and the crash-safety contract.
"""

from chain import calls
from chain.anvil import AnvilNode, anvil_command, find_anvil, require_anvil, start_anvil
from chain.calls import CALL_GAS_CAP, DEPLOY_GAS_CAP, ContractCall
from chain.client import ChainClient
from chain.connect import connect
from chain.deploy import DEPLOY_STEPS
from chain.errors import (
    AnvilNotFound,
    ChainError,
    ChainUnavailable,
    ContractRevert,
    GasCapExceeded,
    SignerNotAllowed,
    TransactionRejected,
    TransactionTimeout,
)
from chain.results import DecodedEvent, DeployResult, DeployStep, SentTransaction, TxReceipt
from chain.signer import DEV_ACCOUNT_KEYS, DEV_CHAIN_IDS, DEV_PRIVATE_KEY, EMBEDDED_CHAIN_ID

__all__ = [
    "CALL_GAS_CAP",
    "DEPLOY_GAS_CAP",
    "DEPLOY_STEPS",
    "DEV_ACCOUNT_KEYS",
    "DEV_CHAIN_IDS",
    "DEV_PRIVATE_KEY",
    "EMBEDDED_CHAIN_ID",
    "AnvilNode",
    "AnvilNotFound",
    "ChainClient",
    "ChainError",
    "ChainUnavailable",
    "ContractCall",
    "ContractRevert",
    "DecodedEvent",
    "DeployResult",
    "DeployStep",
    "GasCapExceeded",
    "SentTransaction",
    "SignerNotAllowed",
    "TransactionRejected",
    "TransactionTimeout",
    "TxReceipt",
    "anvil_command",
    "calls",
    "connect",
    "find_anvil",
    "require_anvil",
    "start_anvil",
]
