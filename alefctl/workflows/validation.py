"""Input checks shared by workflows; each error names the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from alefctl.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s]+@[^@\s.][^@\s]*$")  # a domain may be a host name (admin@localhost)
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


def whole_number(raw: int | str, *, field: str, minimum: int, maximum: int | None = None) -> int:
    """An integer within bounds, or InvalidInput naming the field."""
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"{field} must be a whole number (got {raw!r})", field=field) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidInput(f"{field} must be {bound} (got {value})", field=field)
    return value


def positive_decimal(raw: str | Decimal, *, field: str) -> Decimal:
    """A finite positive decimal, or InvalidInput naming the field."""
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a number: {raw!r}", field=field) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{field} must be greater than zero", field=field)
    return value


def percentage(raw: str | Decimal, *, field: str) -> Decimal:
    """A percentage between 0 and 100 with at most two decimals."""
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a number: {raw!r}", field=field) from None
    if not value.is_finite() or not 0 <= value <= 100 or value != round(value, 2):
        raise InvalidInput(f"{field} must be between 0 and 100 with at most two decimals",
                           field=field)
    return value


def instant(raw: str, *, field: str) -> datetime:
    """An ISO-8601 date or time as typed, as an aware datetime (UTC when it names no zone)."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO-8601 date or time (got {raw!r})",
                           field=field) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
