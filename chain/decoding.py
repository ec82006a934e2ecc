"""Turn raw revert data and logs into clear messages and named events."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import event_abi_to_log_topic, function_signature_to_4byte_selector, to_checksum_address

from chain.artifacts import CONTRACT_NAMES, abi_type, load_artifact, signature
from chain.errors import ContractRevert
from chain.results import DecodedEvent

# Custom error name -> (rule, message template). A test checks every error in the ABIs is here.
ERROR_RULES: dict[str, tuple[str, str]] = {
    "NotOwner": ("not_owner", "{caller} is not the owner of the contract"),
    "ZeroAddress": ("zero_address", "an address argument is the zero address"),
    "NotAgent": ("not_agent", "{caller} is not an agent of the contract"),
    "NotAgentOrToken": ("not_agent", "{caller} is neither an agent of the identity registry nor its token"),
    "AgentAlreadyAdded": ("agent_already_added", "{agent} is already an agent"),
    "AgentNotFound": ("agent_not_found", "{agent} is not an agent"),
    "TokenAlreadyBound": ("token_already_bound", "the contract is already bound to token {token}"),
    "TokenNotBound": ("token_not_bound", "{token} is not the token bound to the contract"),
    "BindingRefused": (
        "binding_refused",
        "{caller} may not bind a token (only the owner, or a token the owner deploys)",
    ),
    "OnlyBoundToken": ("only_bound_token", "{caller} is not the token bound to the compliance"),
    "AlreadyRegistered": (
        "already_registered",
        "wallet {wallet} is already registered in the identity registry",
    ),
    "NotRegistered": ("not_registered", "wallet {wallet} is not registered in the identity registry"),
    "ArrayLengthMismatch": ("array_length_mismatch", "the batch arrays have different lengths"),
    "ReceiverNotVerified": (
        "receiver_not_verified",
        "receiver wallet {wallet} is not verified in the identity registry",
    ),
    "CountryRestricted": (
        "country_restricted",
        "receiver wallet {wallet} is in country {country}, which the token's compliance restricts",
    ),
    "MaxBalanceExceeded": (
        "max_balance_exceeded",
        "wallet {wallet} would hold {balanceAfter}, above the maximum balance {maxBalance}",
    ),
    "MaxHoldersExceeded": (
        "max_holders_exceeded",
        "wallet {wallet} would be a new holder, but the token has {holders} of at most {maxHolders}",
    ),
    "HolderTransfersClosed": (
        "holder_transfers_closed",
        "holder transfers are closed (platform custody): only agents move the token",
    ),
    "CountryAlreadyRestricted": ("country_already_restricted", "country {country} is already restricted"),
    "CountryNotRestricted": ("country_not_restricted", "country {country} is not restricted"),
    "TransfersPaused": ("token_paused", "the token is paused: holder transfers are blocked"),
    "AlreadyPaused": ("already_paused", "the token is already paused"),
    "NotPaused": ("not_paused", "the token is not paused"),
    "WalletFrozen": ("wallet_frozen", "wallet {wallet} is frozen"),
    "InsufficientFreeBalance": (
        "insufficient_free_balance",
        "wallet {wallet} has {freeBalance} unfrozen base units, {amount} needed",
    ),
    "InsufficientBalance": (
        "insufficient_balance",
        "wallet {wallet} holds {balance} base units, {amount} needed",
    ),
    "InsufficientAllowance": (
        "insufficient_allowance",
        "{spender} may spend {allowance} of {owner}'s base units, {amount} needed",
    ),
    "FreezeExceedsBalance": (
        "freeze_exceeds_balance",
        "freezing would lock {frozenAfter} base units of wallet {wallet}, which holds {balance}",
    ),
    "UnfreezeExceedsFrozen": (
        "unfreeze_exceeds_frozen",
        "wallet {wallet} has {frozen} frozen base units, cannot unfreeze {amount}",
    ),
    "NothingToRecover": ("nothing_to_recover", "lost wallet {lostWallet} holds no tokens to recover"),
    "RecoveryIdentityMismatch": (
        "recovery_identity_mismatch",
        "wallet {wallet} is not registered with identity {identity}",
    ),
}

_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_PANIC_REASONS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x32: "array index out of bounds",
}


@functools.cache
def _errors_by_selector() -> Mapping[bytes, dict[str, Any]]:
    table: dict[bytes, dict[str, Any]] = {}
    for contract in CONTRACT_NAMES:
        for entry in load_artifact(contract).abi:
            if entry["type"] == "error":
                table[function_signature_to_4byte_selector(signature(entry))] = entry
    return table


@functools.cache
def _events_by_topic() -> Mapping[bytes, dict[str, Any]]:
    return {
        event_abi_to_log_topic(entry): entry  # type: ignore[arg-type]
        for contract in CONTRACT_NAMES
        for entry in load_artifact(contract).abi
        if entry["type"] == "event"
    }


def _normalize(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return to_checksum_address(value)
    return value


def decode_revert(data: bytes) -> ContractRevert:
    """ContractRevert naming the rule behind raw revert data (custom error, string or panic)."""
    selector, payload = data[:4], data[4:]
    if not data:
        return ContractRevert("reverted", "the contract reverted without a reason", data=data)
    if selector == _ERROR_STRING_SELECTOR:
        (reason,) = abi_decode(["string"], payload)
        return ContractRevert("reverted", reason, "Error", {"reason": reason}, data)
    if selector == _PANIC_SELECTOR:
        (code,) = abi_decode(["uint256"], payload)
        reason = _PANIC_REASONS.get(code, "unexpected panic")
        return ContractRevert(
            "panic", f"contract panic 0x{code:02x}: {reason}", "Panic", {"code": code}, data
        )
    entry = _errors_by_selector().get(selector)
    if entry is None:
        return ContractRevert(
            "unknown_error", f"the contract reverted with unknown error 0x{data.hex()}", data=data
        )
    values = abi_decode([abi_type(p) for p in entry["inputs"]], payload)
    args = {p["name"]: _normalize(v) for p, v in zip(entry["inputs"], values, strict=True)}
    rule, template = ERROR_RULES.get(entry["name"], (entry["name"], entry["name"] + " {args}"))
    return ContractRevert(rule, template.format(args=args, **args), entry["name"], args, data)


def decode_logs(logs: Iterable[Mapping[str, Any]]) -> tuple[DecodedEvent, ...]:
    """Decode receipt logs emitted by our contracts; logs of other contracts are skipped."""
    events = []
    for log in logs:
        topics = [bytes(topic) for topic in log["topics"]]
        entry = _events_by_topic().get(topics[0]) if topics else None
        if entry is None:
            continue
        indexed = [p for p in entry["inputs"] if p["indexed"]]
        plain = [p for p in entry["inputs"] if not p["indexed"]]
        values = {
            p["name"]: abi_decode([abi_type(p)], topic)[0]
            for p, topic in zip(indexed, topics[1:], strict=True)
        }
        values.update(
            zip(
                (p["name"] for p in plain),
                abi_decode([abi_type(p) for p in plain], bytes(log["data"])),
                strict=True,
            )
        )
        args = {p["name"]: _normalize(values[p["name"]]) for p in entry["inputs"]}
        events.append(DecodedEvent(entry["name"], to_checksum_address(log["address"]), args))
    return tuple(events)
