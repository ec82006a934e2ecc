"""The input rules of the HTTP edge: what pydantic accepts but PostgreSQL would refuse.

pydantic checks a request's shape; a value of the right type can still be one the database
cannot store or compare, and a request carrying it answered 500. Every value a route receives
(path and query parameters, and each field of a JSON body, nested ones included) is checked
here before the route runs, and refused with 422 `invalid_input` naming the field:

- text: no NUL character (PostgreSQL text cannot hold one) and valid Unicode (no lone
  surrogates, which cannot be encoded as UTF-8);
- integers: within BIGINT (64-bit signed);
- decimals: finite, below 10^14 in magnitude (the narrowest NUMERIC column with a whole part,
  NUMERIC(20, 6), holds 14 digits), and zero or at least 10^-18 (a 1E-400 has no business in
  any column); at most 18 decimal places; written without an exponent (`1E+2`, `1e400`) and
  not as a negative zero;
- times: with a time zone, and within the years a datetime can hold once converted to UTC.

EdgeRoute applies the rules to every FastAPI route; the routes that parse their own bodies (the
order fast path) call check_value through parse_body.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from alefctl.errors import InvalidInput

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
DECIMAL_DIGITS = 14  # whole digits at most
DECIMAL_PLACES = 18  # the smallest magnitude: 10^-18
DECIMAL_LIMIT = Decimal(10) ** DECIMAL_DIGITS


def check_value(value: Any, field: str) -> None:
    """Refuse (InvalidInput naming the field) a value the database could not take; containers
    (models, lists, dicts) are checked item by item."""
    _check(value, field)


# `where` names a value as (container's where, key), made into "body.items.0" only for an
# error: the order fast path checks every order, and most orders are fine.
Where = str | tuple[Any, Any]


def _check(value: Any, where: Where) -> None:
    if isinstance(value, str):
        if "\x00" in value or not (value.isascii() or _encodable(value)):
            raise _invalid(where, "must be text without NUL characters, in valid Unicode")
    elif value is None or isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not BIGINT_MIN <= value <= BIGINT_MAX:
            raise _invalid(where, "is out of range (a 64-bit integer)")
    elif isinstance(value, Decimal):
        _check_decimal(value, where)
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            _check(item, (where, name))
    elif dataclasses.is_dataclass(value):  # a body declared as a dataclass (OrderRequest)
        for name, wire_name in _wire_names(type(value)).items():
            _check(getattr(value, name), (where, wire_name))
    elif isinstance(value, float):
        if not (math.isfinite(value) and abs(value) < DECIMAL_LIMIT):
            raise _invalid(where, f"must be a finite number below {DECIMAL_LIMIT:,.0f}")
    elif isinstance(value, datetime):
        _check_time(value, where)
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _check(item, (where, index))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check(key, where)
            _check(item, (where, key))


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


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _check_decimal(value: Decimal, where: Where) -> None:
    if not value.is_finite():
        raise _invalid(where, "must be a finite number")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent > 0:  # only an exponent form parses so: "1E+2", not "100"
        raise _invalid(where, "must be written without an exponent (100, not 1E+2)")
    if exponent < -DECIMAL_PLACES:
        raise _invalid(where, f"has more than {DECIMAL_PLACES} decimal places")
    if value.is_zero():
        if value.is_signed():
            raise _invalid(where, "must not be a negative zero")
        return
    magnitude = value.adjusted()  # the power of ten of the first digit: 1234.5 is 3
    if magnitude >= DECIMAL_DIGITS:
        raise _invalid(where, f"is out of range (below 10^{DECIMAL_DIGITS})")
    if magnitude < -DECIMAL_PLACES:
        raise _invalid(where, f"is too small (zero, or at least 10^-{DECIMAL_PLACES})")


def _check_time(value: datetime, where: Where) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise _invalid(where, "needs a time zone (e.g. 2030-01-31T12:00:00Z)")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise _invalid(where, "is out of range") from None


def _invalid(where: Where, problem: str) -> InvalidInput:
    field = _name(where)
    return InvalidInput(f"{field} {problem}", field=field)


def _name(where: Where) -> str:
    if isinstance(where, str):
        return where
    parent, key = where
    head = _name(parent)
    return f"{head}.{key}" if head else str(key)


@functools.cache
def _wire_names(cls: type) -> dict[str, str]:
    """A dataclass body's fields by their JSON names (a pydantic Field alias, else the name)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    names = {}
    for item in dataclasses.fields(cls):
        aliases = [meta.alias for meta in getattr(hints[item.name], "__metadata__", ())
                   if isinstance(meta, FieldInfo) and meta.alias]
        names[item.name] = aliases[0] if aliases else item.name
    return names
