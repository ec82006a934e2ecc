"""One exception tree for every workflow; each error knows its exit code and HTTP status.

Exit codes (README, "Commands"): 0 success, 1 failure, 2 usage, 3 not found, 4 permission,
5 conflict / wrong state, 6 chain or database unavailable (safe to retry).
"""

from __future__ import annotations


class AlefError(Exception):
    """Base of every expected error: a one-line message, an exit code and a stable code."""

    exit_code = 1
    http_status = 500
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __reduce__(self) -> tuple:
        """Pickle with the field and code (the order writer's process sends errors back)."""
        return (_rebuild, (type(self), self.message, self.field, vars(self).get("code")))


def _rebuild(cls: type[AlefError], message: str, field: str | None, code: str | None) -> AlefError:
    return cls(message, field=field, code=code)


class InvalidInput(AlefError):
    """The caller's input is malformed or out of range."""

    exit_code = 2
    http_status = 422
    code = "invalid_input"


class NotFound(AlefError):
    """The named object does not exist."""

    exit_code = 3
    http_status = 404
    code = "not_found"


class PermissionDenied(AlefError):
    """The acting user may not do this."""

    exit_code = 4
    http_status = 403
    code = "permission_denied"


class Conflict(AlefError):
    """The object exists already, or is in a state that forbids the action."""

    exit_code = 5
    http_status = 409
    code = "conflict"


class InsufficientFunds(Conflict):
    """A balance does not cover the amount asked for."""

    code = "insufficient_funds"


class TooManyOpenOrders(Conflict):
    """An investor has the most open orders allowed on a token (settings.trading.max_open_orders)."""

    code = "too_many_open_orders"


class Unavailable(AlefError):
    """The database or the chain cannot be reached; retrying later is safe."""

    exit_code = 6
    http_status = 503
    code = "unavailable"
