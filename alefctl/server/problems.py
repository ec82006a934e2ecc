"""Errors as application/problem+json (RFC 9457) with a stable code; bad input is 4xx, never 5xx."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from alefctl.db.errors import database_error, is_refused_value
from alefctl.errors import AlefError, Unavailable
from alefctl.redact import get_logger

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 1  # an outage answer (503) says when to try again
log = get_logger("alefctl.server")


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response (a 503 with Retry-After)."""
    body = {"type": f"urn:alefctl:problem:{code}", "title": code.replace("_", " "),
            "status": status, "code": code, "detail": detail, **extra}
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(exc: Exception) -> JSONResponse:
    """The problem response of any error a request can raise (unexpected ones are logged, 500).

    A database outage is 503 `unavailable` (db/errors.py decides what an outage is). Bad input
    is refused before it reaches the database (server/edge.py); a value the database refuses
    all the same (say a product of two numbers past BIGINT) is 422 too, and logged. Any other
    database error is unexpected: 500."""
    if isinstance(exc, AlefError):
        status = 401 if exc.code == "unauthenticated" else exc.http_status
        extra = {"field": exc.field} if exc.field else {}
        return problem(status, exc.code, exc.message, **extra)
    translated = database_error(exc)
    if isinstance(translated, Unavailable):
        log.warning("database unavailable: %s", translated.message)
        return problem_for(translated)
    if translated is not None and is_refused_value(exc):
        log.warning("the database refused a value of a request: %s", translated.message)
        return problem(422, "invalid_input",
                       "a value in the request is out of the range the platform can store")
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

    from psycopg import Error as DriverError
    from sqlalchemy.exc import SQLAlchemyError

    # The database's errors are answered here, not re-raised to the server as a crash would be.
    for kind in (AlefError, RequestValidationError, HTTPException, SQLAlchemyError, DriverError,
                 Exception):
        app.add_exception_handler(kind, handler)
