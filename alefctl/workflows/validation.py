"""Input checks shared by workflows; each error names the field."""

from __future__ import annotations

import re

from alefctl.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


def email_address(raw: str, *, field: str = "email") -> str:
    """A lower-cased email address, or InvalidInput."""
    email = raw.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise InvalidInput(f"{field} is not a valid email address: {raw!r}", field=field)
    return email


def evm_address(raw: str, *, field: str = "wallet_address") -> str:
    """The EIP-55 checksummed form of an EVM address; a mixed-case input must already match it."""
    from eth_utils import to_checksum_address

    candidate = raw.strip()
    if not HEX_ADDRESS.match(candidate):
        raise InvalidInput(f"{field} is not an EVM address (0x + 40 hex digits): {raw!r}", field=field)
    checksummed = to_checksum_address(candidate)
    body = candidate[2:]
    if body != body.lower() and body != body.upper() and candidate != checksummed:
        raise InvalidInput(f"{field} has a wrong EIP-55 checksum: {raw!r}", field=field)
    if int(candidate, 16) == 0:
        raise InvalidInput(f"{field} must not be the zero address", field=field)
    return checksummed


def country_code(raw: str, *, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased."""
    code = raw.strip().upper()
    if not COUNTRY.match(code):
        raise InvalidInput(f"{field} must be a two-letter ISO country code: {raw!r}", field=field)
    return code


def non_empty(raw: str, *, field: str, max_length: int = 200) -> str:
    """A trimmed, non-empty string of bounded length."""
    value = raw.strip()
    if not value:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return value
