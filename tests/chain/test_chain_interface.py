"""The compiled contracts against the ERC-3643 reference interface, and artifact freshness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import function_signature_to_4byte_selector, keccak

from chain.artifacts import CONTRACT_NAMES, abi_type, load_artifact, signature, sources_sha256
from chain.decoding import ERROR_RULES

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"

AGENT_ROLE = [
    "addAgent(address)",
    "removeAgent(address)",
    "isAgent(address)",
    "owner()",
    "transferOwnership(address)",
]

# The ERC-3643 (T-REX) interface the contracts must offer, written out: signature -> return
# types ("" for none, None where the reference gives no return type).
REFERENCE_FUNCTIONS: dict[str, dict[str, str | None]] = {
    "SecurityToken": {
        "mint(address,uint256)": "",
        "burn(address,uint256)": "",
        "forcedTransfer(address,address,uint256)": "bool",
        "batchMint(address[],uint256[])": "",
        "batchBurn(address[],uint256[])": "",
        "batchForcedTransfer(address[],address[],uint256[])": "",
        "batchTransfer(address[],uint256[])": "",
        "transfer(address,uint256)": "bool",
        "transferFrom(address,address,uint256)": "bool",
        "approve(address,uint256)": "bool",
        "allowance(address,address)": "uint256",
        "balanceOf(address)": "uint256",
        "totalSupply()": "uint256",
        "name()": "string",
        "symbol()": "string",
        "decimals()": "uint8",
        "pause()": "",
        "unpause()": "",
        "paused()": "bool",
        "setAddressFrozen(address,bool)": "",
        "isFrozen(address)": "bool",
        "freezePartialTokens(address,uint256)": "",
        "unfreezePartialTokens(address,uint256)": "",
        "getFrozenTokens(address)": "uint256",
        "batchSetAddressFrozen(address[],bool[])": "",
        "batchFreezePartialTokens(address[],uint256[])": "",
        "batchUnfreezePartialTokens(address[],uint256[])": "",
        "recoveryAddress(address,address,address)": "bool",
        "identityRegistry()": "address",
        "compliance()": "address",
        **dict.fromkeys(AGENT_ROLE, None),
    },
    "IdentityRegistry": {
        "registerIdentity(address,address,uint16)": "",
        "batchRegisterIdentity(address[],address[],uint16[])": "",
        "deleteIdentity(address)": "",
        "updateCountry(address,uint16)": "",
        "updateIdentity(address,address)": "",
        "isVerified(address)": "bool",
        "contains(address)": "bool",
        "identity(address)": "address",
        "investorCountry(address)": "uint16",
        **dict.fromkeys(AGENT_ROLE, None),
    },
    "Compliance": {
        "canTransfer(address,address,uint256)": "bool",
        "transferred(address,address,uint256)": "",
        "created(address,uint256)": "",
        "destroyed(address,uint256)": "",
        "bindToken(address)": "",
        "unbindToken(address)": "",
        "getTokenBound()": "address",
    },
}

REFERENCE_EVENTS: dict[str, list[str]] = {
    "SecurityToken": [
        "Transfer(address,address,uint256)",
        "Approval(address,address,uint256)",
        "AddressFrozen(address,bool,address)",
        "TokensFrozen(address,uint256)",
        "TokensUnfrozen(address,uint256)",
        "Paused(address)",
        "Unpaused(address)",
        "RecoverySuccess(address,address,address)",
        "IdentityRegistryAdded(address)",
        "ComplianceAdded(address)",
        "AgentAdded(address)",
        "AgentRemoved(address)",
        "OwnershipTransferred(address,address)",
    ],
    "IdentityRegistry": [
        "IdentityRegistered(address,address)",
        "IdentityRemoved(address,address)",
        "IdentityUpdated(address,address)",
        "CountryUpdated(address,uint16)",
    ],
    "Compliance": ["TokenBound(address)", "TokenUnbound(address)"],
}


def _abi_entries(contract: str, kind: str) -> list[dict]:
    return [entry for entry in load_artifact(contract).abi if entry["type"] == kind]


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_function_selectors_match_the_reference(contract: str) -> None:
    compiled = {
        function_signature_to_4byte_selector(signature(e)): e for e in _abi_entries(contract, "function")
    }
    for reference, returns in REFERENCE_FUNCTIONS[contract].items():
        selector = function_signature_to_4byte_selector(reference)
        assert selector in compiled, f"{contract} lacks {reference} (selector 0x{selector.hex()})"
        if returns is not None:
            outputs = ",".join(abi_type(p) for p in compiled[selector]["outputs"])
            assert outputs == returns, f"{contract}.{reference} returns ({outputs}), reference ({returns})"


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_event_topics_match_the_reference(contract: str) -> None:
    compiled = {keccak(text=signature(e)) for e in _abi_entries(contract, "event")}
    missing = [ref for ref in REFERENCE_EVENTS[contract] if keccak(text=ref) not in compiled]
    assert missing == []


def test_well_known_erc20_selectors() -> None:
    selectors = {
        signature(e): function_signature_to_4byte_selector(signature(e)).hex()
        for e in _abi_entries("SecurityToken", "function")
    }
    assert selectors["transfer(address,uint256)"] == "a9059cbb"
    assert selectors["balanceOf(address)"] == "70a08231"
    assert selectors["approve(address,uint256)"] == "095ea7b3"
    assert selectors["transferFrom(address,address,uint256)"] == "23b872dd"


def test_can_transfer_is_a_view() -> None:
    (entry,) = [e for e in _abi_entries("Compliance", "function") if e["name"] == "canTransfer"]
    assert entry["stateMutability"] == "view"


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_artifacts_were_rebuilt_after_the_last_source_change(contract: str) -> None:
    if not CONTRACTS_DIR.is_dir():
        pytest.skip("contracts/ sources are not in this checkout")
    assert load_artifact(contract).sources_sha256 == sources_sha256(CONTRACTS_DIR), (
        "contracts/*.sol changed but chain/artifacts were not rebuilt: "
        "run `cd contracts && npm ci && node build.js` and commit chain/artifacts"
    )


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_artifacts_come_from_the_pinned_compiler(contract: str) -> None:
    pinned = json.loads((CONTRACTS_DIR / "package.json").read_text())["devDependencies"]["solc"]
    assert load_artifact(contract).compiler_version.startswith(pinned + "+commit.")


def test_every_custom_error_has_a_clear_message() -> None:
    names = {e["name"] for contract in CONTRACT_NAMES for e in _abi_entries(contract, "error")}
    assert sorted(names - set(ERROR_RULES)) == []
