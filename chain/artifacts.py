"""The compiled contracts (chain/artifacts/*.json, built by contracts/build.js) and their ABI.

Artifacts are committed so that installing alefctl never needs Node. Each records the sha256
of the Solidity sources it was built from; `sources_sha256` recomputes it the same way as
build.js so that a test can tell when a source changed and the artifacts were not rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
CONTRACT_NAMES = ("IdentityRegistry", "Compliance", "SecurityToken")


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    compiler_version: str
    sources_sha256: str

    def function(self, name: str) -> dict[str, Any]:
        """The ABI entry of a function (our contracts have no overloads)."""
        for entry in self.abi:
            if entry.get("type") == "function" and entry["name"] == name:
                return entry
        raise KeyError(f"{self.name} has no function {name!r}")

    def constructor_types(self) -> list[str]:
        """Argument types of the constructor."""
        for entry in self.abi:
            if entry.get("type") == "constructor":
                return [abi_type(param) for param in entry["inputs"]]
        return []


def abi_type(param: dict[str, Any]) -> str:
    """Canonical type string of an ABI parameter (tuples expanded)."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(component) for component in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    """Canonical signature of a function, event or error ABI entry, e.g. 'mint(address,uint256)'."""
    return f"{entry['name']}({','.join(abi_type(p) for p in entry['inputs'])})"


@functools.cache
def load_artifact(name: str) -> Artifact:
    """Load chain/artifacts/<name>.json."""
    raw = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
    return Artifact(
        name=name,
        abi=tuple(raw["abi"]),
        bytecode=bytes.fromhex(raw["bytecode"].removeprefix("0x")),
        compiler_version=raw["compiler"]["version"],
        sources_sha256=raw["sourcesSha256"],
    )


def encode_function_call(contract: str, function: str, args: tuple[Any, ...]) -> bytes:
    """Calldata for contract.function(*args): 4-byte selector then ABI-encoded arguments."""
    entry = load_artifact(contract).function(function)
    types = [abi_type(param) for param in entry["inputs"]]
    return function_signature_to_4byte_selector(signature(entry)) + abi_encode(types, list(args))


def encode_deployment(contract: str, args: tuple[Any, ...]) -> bytes:
    """Creation code for contract with constructor args appended."""
    artifact = load_artifact(contract)
    return artifact.bytecode + abi_encode(artifact.constructor_types(), list(args))


def decode_function_result(contract: str, function: str, data: bytes) -> Any:
    """Decoded return value of a view; a single output is returned bare."""
    entry = load_artifact(contract).function(function)
    types = [abi_type(param) for param in entry["outputs"]]
    values = [
        to_checksum_address(v) if t == "address" else v
        for t, v in zip(types, abi_decode(types, data), strict=True)
    ]
    return values[0] if len(values) == 1 else tuple(values)


def sources_sha256(contracts_dir: Path) -> str:
    """Hash of contracts/*.sol computed exactly as contracts/build.js does."""
    manifest = ""
    for path in sorted(contracts_dir.glob("*.sol"), key=lambda p: p.name.encode()):
        content = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        manifest += f"{path.name}\n{hashlib.sha256(content.encode()).hexdigest()}\n"
    return hashlib.sha256(manifest.encode()).hexdigest()
