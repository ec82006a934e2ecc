"""alefctl's JSON format, for every front end and the audit log: decimals as strings, times as
ISO-8601 UTC, UUIDs as strings."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Turn rows and values into JSON-ready data: decimals as strings, ISO-8601 UTC times."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return _scalar(value)


def json_text(value: Any) -> str:
    """Compact JSON of what to_jsonable takes, written in one pass by the C encoder (the scalars
    JSON lacks go through _scalar), as Starlette's JSONResponse and send_json write it."""
    try:
        return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    except TypeError:  # a key that is not a string (a UUID, say)
        return json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))


def _scalar(value: Any) -> Any:
    """A scalar as JSON-ready data: decimals as strings, ISO-8601 UTC times; others as they are."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _json_default(value: Any) -> Any:
    """json.dumps' hook for a value it has no type for."""
    converted = _scalar(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return converted
