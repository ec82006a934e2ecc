"""The input rules of the HTTP edge: what pydantic accepts but PostgreSQL would refuse.

pydantic checks a request's shape; a value of the right type can still be one the database
cannot store or compare, and a request carrying it answered 500. Every value a route receives
(path and query parameters, and each field of a JSON body, nested ones included) is checked
here before the route runs, and refused with 422 `invalid_input` naming the field:

- text: no NUL character (PostgreSQL text cannot hold one) and valid Unicode (no lone
  surrogates, which cannot be encoded as UTF-8);
- integers: within BIGINT (64-bit signed);
- decimals: finite, below 10**14 in magnitude (the narrowest NUMERIC column with a whole part,
  NUMERIC(20, 6), holds 14 digits) and at most 18 decimal places;
- times: with a time zone, and within the years a datetime can hold once converted to UTC.

EdgeRoute applies the rules to every FastAPI route; the routes that parse their own bodies (the
order fast path) call check_value through parse_body.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel

from alefctl.errors import InvalidInput

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
DECIMAL_LIMIT = Decimal(10) ** 14
DECIMAL_MAX_PLACES = 18


def check_value(value: Any, field: str) -> None:
    """Refuse (InvalidInput naming the field) a value the database could not take; containers
    (models, lists, dicts) are checked item by item."""
    if isinstance(value, str):
        _check_text(value, field)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not BIGINT_MIN <= value <= BIGINT_MAX:
            raise InvalidInput(f"{field} is out of range (a 64-bit integer)", field=field)
    elif isinstance(value, Decimal):
        _check_decimal(value, field)
    elif isinstance(value, float):
        if not (math.isfinite(value) and abs(value) < DECIMAL_LIMIT):
            raise InvalidInput(f"{field} must be a finite number below {DECIMAL_LIMIT:,.0f}",
                               field=field)
    elif isinstance(value, datetime):
        _check_time(value, field)
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            check_value(item, f"{field}.{name}" if field else name)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            check_value(item, f"{field}.{index}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_value(key, field)
            check_value(item, f"{field}.{key}")


def check_arguments(arguments: Mapping[str, Any]) -> None:
    """check_value on each named argument of a route (objects of other types pass untouched)."""
    for name, value in arguments.items():
        check_value(value, "" if isinstance(value, BaseModel) else name)


class EdgeRoute(APIRoute):
    """A FastAPI route whose parsed arguments pass check_arguments before its endpoint runs."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, checked_endpoint(endpoint), **options)


def checked_endpoint(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint behind check_arguments; sync stays sync (FastAPI runs it in a thread)."""
    if getattr(endpoint, "_edge_checked", False):  # include_router builds each route again
        return endpoint
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def checked_async(**arguments: Any) -> Any:
            check_arguments(arguments)
            return await endpoint(**arguments)

        checked: Callable[..., Any] = checked_async
    else:

        @functools.wraps(endpoint)
        def checked_sync(**arguments: Any) -> Any:
            check_arguments(arguments)
            return endpoint(**arguments)

        checked = checked_sync
    checked._edge_checked = True  # type: ignore[attr-defined]
    return checked


def _check_text(value: str, field: str) -> None:
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain a NUL character", field=field)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{field} is not valid Unicode text", field=field) from None


def _check_decimal(value: Decimal, field: str) -> None:
    if not value.is_finite():
        raise InvalidInput(f"{field} must be a finite number", field=field)
    if abs(value) >= DECIMAL_LIMIT:
        raise InvalidInput(f"{field} is out of range (below {DECIMAL_LIMIT:,.0f})", field=field)
    exponent = value.normalize().as_tuple().exponent  # 1.50000 has two places, not five
    if isinstance(exponent, int) and exponent < -DECIMAL_MAX_PLACES:
        raise InvalidInput(f"{field} has more than {DECIMAL_MAX_PLACES} decimal places",
                           field=field)


def _check_time(value: datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} needs a time zone (e.g. 2030-01-31T12:00:00Z)", field=field)
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{field} is out of range", field=field) from None
