"""Errors as application/problem+json (RFC 9457) with a stable code; bad input is 4xx, never 5xx."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from alefctl.errors import AlefError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("alefctl.server")


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": f"urn:alefctl:problem:{code}", "title": code.replace("_", " "),
            "status": status, "code": code, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def problem_for(exc: Exception) -> JSONResponse:
    """The problem response of any error a request can raise (unexpected ones are logged, 500)."""
    if isinstance(exc, AlefError):
        status = 401 if exc.code == "unauthenticated" else exc.http_status
        extra = {"field": exc.field} if exc.field else {}
        return problem(status, exc.code, exc.message, **extra)
    if isinstance(exc, RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]}
                  for e in exc.errors()]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        return problem(422, "invalid_input", f"{first['field']}: {first['message']}",
                       errors=errors)
    if isinstance(exc, HTTPException):
        code = {401: "unauthenticated", 404: "not_found", 405: "method_not_allowed",
                413: "payload_too_large"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail))
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error the app can raise onto a problem response."""

    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        return problem_for(exc)

    for kind in (AlefError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(kind, handler)
