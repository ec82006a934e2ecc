"""Primary keys are UUID v7: time-ordered, so B-tree inserts stay local."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    """Return a new UUID v7 as a standard uuid.UUID."""
    return uuid.UUID(int=uuid6.uuid7().int)


def parse_id(raw: str, *, field: str = "id") -> uuid.UUID:
    """Parse a UUID given by a user, or raise InvalidInput naming the field."""
    from alefctl.errors import InvalidInput

    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise InvalidInput(f"{field} is not a valid UUID: {raw!r}", field=field) from None
