"""HTTP routes: parse, call a workflow in one transaction, render; no business rule here."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection

from alefctl.jsonfmt import json_text, to_jsonable
from alefctl.server.edge import check_json_body, check_value, decimal_fields
from alefctl.server.state import server_state

M = TypeVar("M")
_ADAPTERS: dict[type, TypeAdapter[Any]] = {}


def transaction(request: Request) -> AbstractContextManager[Connection]:
    """One database transaction for one workflow step."""
    return server_state(request).db.begin()


def out(result: Any) -> Any:
    """A workflow result as JSON-ready data (decimals as strings, ISO-8601 UTC times)."""
    if isinstance(result, list):
        return [out(item) for item in result]
    return to_jsonable(result.to_dict() if hasattr(result, "to_dict") else result)


def _adapter(model: type[M]) -> TypeAdapter[M]:
    """Pydantic's validator of a body model (a pydantic model or a dataclass), built once."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def body_schema(model: type) -> dict[str, Any]:
    """OpenAPI text of a JSON body that a hot route parses itself (see parse_body)."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": _adapter(model).json_schema()}}}}


def parse_body(model: type[M], raw: bytes) -> M:
    """A JSON body checked against its model, refused as FastAPI would (422, same problem).

    The order routes parse for themselves: FastAPI's body and dependency machinery costs more
    per request than the order does in the writer. The edge rules (server/edge.py) apply here
    as on every FastAPI route."""
    try:
        parsed = _adapter(model).validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError(
            [error | {"loc": ("body", *error["loc"])} for error in exc.errors()]) from None
    check_json_body(raw, decimal_fields(model))
    check_value(parsed, "")
    return parsed


def render(result: Any, status_code: int = 200) -> Response:
    """A workflow result of plain data (dicts, lists, scalars) as a JSON response, encoded once
    (not by FastAPI, and not through to_jsonable first)."""
    return Response(json_text(result).encode(), status_code, media_type="application/json")
