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

An exponent is refused in the JSON text as well (check_json_body), where it can still be seen:
a JSON number written with one (`1e2`, `1.5e1`), in any field, parses to a plain number (and a
decimal string `"1.5e1"` to 15), so the parsed value no longer shows it.

EdgeRoute applies the rules to every FastAPI route; the routes that parse their own bodies (the
order fast path) call check_json_body and check_value through parse_body.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
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


# Digits then an exponent: a body without this needs no further look (most order bodies).
_EXPONENT_HINT = re.compile(rb"[0-9.][eE][-+]?[0-9]")
_EXPONENT_DECIMAL = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+\s*")
_NO_EXPONENT = "must be written without an exponent (100, not 1e2)"


class _NumberText(str):
    """A JSON number with a fraction or an exponent, as it was written."""


def check_json_body(raw: bytes, decimal_fields: frozenset[str] = frozenset()) -> None:
    """Refuse (InvalidInput naming the field) a JSON number written with an exponent, in any
    field, and a string written so in one of the body's decimal fields; a body that is not
    JSON is left to the parser."""
    if not _EXPONENT_HINT.search(raw):
        return
    try:
        decoded = json.loads(raw, parse_float=_NumberText)
    except ValueError:
        return
    _refuse_exponents(decoded, "", decimal_fields)


def _refuse_exponents(value: Any, where: Where, decimal_fields: frozenset[str]) -> None:
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(item, _NumberText) and ("e" in item or "E" in item):
            raise _invalid((where, key), _NO_EXPONENT)
        if (isinstance(item, str) and where == "" and key in decimal_fields
                and _EXPONENT_DECIMAL.fullmatch(item)):
            raise _invalid((where, key), _NO_EXPONENT)
        _refuse_exponents(item, (where, key), decimal_fields)


@functools.cache
def decimal_fields(model: type) -> frozenset[str]:
    """The JSON names of a body model's decimal fields (a pydantic model or a dataclass)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return frozenset(field.alias or name for name, field in model.model_fields.items()
                         if _holds_decimal(field.annotation))
    if dataclasses.is_dataclass(model):
        hints = typing.get_type_hints(model, include_extras=True)
        return frozenset(wire for name, wire in _wire_names(model).items()
                         if _holds_decimal(hints[name]))
    return frozenset()


def _holds_decimal(annotation: Any) -> bool:
    return annotation is Decimal or any(_holds_decimal(a) for a in typing.get_args(annotation))


class EdgeRoute(APIRoute):
    """A FastAPI route whose JSON body passes check_json_body, and whose parsed arguments pass
    check_arguments, before its endpoint runs."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, checked_endpoint(endpoint), **options)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        model = self.body_field.field_info.annotation
        decimals = decimal_fields(model) if isinstance(model, type) else frozenset[str]()

        async def checked_body(request: Request) -> Response:
            check_json_body(await request.body(), decimals)  # kept by the request for FastAPI
            return await handler(request)

        return checked_body


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
