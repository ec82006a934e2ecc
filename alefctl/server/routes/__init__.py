"""HTTP routes: parse, call a workflow in one transaction, render; no business rule here."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from fastapi import Request
from sqlalchemy import Connection

from alefctl.db.audit import to_jsonable


def transaction(request: Request) -> AbstractContextManager[Connection]:
    """One database transaction for one workflow step."""
    return request.app.state.db.begin()


def out(result: Any) -> Any:
    """A workflow result as JSON-ready data (decimals as strings, ISO-8601 UTC times)."""
    if isinstance(result, list):
        return [out(item) for item in result]
    return to_jsonable(result.to_dict() if hasattr(result, "to_dict") else result)
