"""Cursor pagination of an investor's history: stable order, filters by token and time.

A list is ordered newest first by (created_at, id), which never ties; the cursor is the key of
the last row of a page, opaque to the caller (URL-safe base64). A page asks for one row more
than its limit to know whether a next page exists, so no count is needed."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from alefctl.errors import InvalidInput

MAX_LIMIT = 500


@dataclass(frozen=True)
class PageQuery:
    """What a caller asks of a list: how many, after which cursor, of which token, when."""

    limit: int = 50
    cursor: str | None = None
    token: str | None = None  # symbol
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next page (None on the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"items": self.items, "next_cursor": self.next_cursor}


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    """The opaque cursor after a row."""
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The row key a cursor names, or InvalidInput."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, row_id = raw.split("|")
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None:
            raise ValueError("no time zone")
        return when, uuid.UUID(row_id)
    except ValueError:
        raise InvalidInput("cursor is not one this API returned", field="cursor") from None


def check_query(query: PageQuery) -> None:
    """Refuse a limit out of range or a time window that ends before it starts."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    for name in ("since", "until"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} needs a time zone (e.g. 2026-01-01T00:00:00Z)", field=name)
    if query.since and query.until and query.until <= query.since:
        raise InvalidInput("until must be after since", field="until")


def fetch_page(conn: Connection, select: str, alias: str, user_id: uuid.UUID,
               query: PageQuery) -> Page:
    """Run a list's SELECT (a WHERE clause on the owner, tokens joined as t) for one page.

    `alias` is the table whose (created_at, id) orders the list."""
    check_query(query)
    after = decode_cursor(query.cursor) if query.cursor else (None, None)
    sql = (f"{select} AND (CAST(:sym AS text) IS NULL OR t.symbol = :sym)"
           f" AND (CAST(:since AS timestamptz) IS NULL OR {alias}.created_at >= :since)"
           f" AND (CAST(:until AS timestamptz) IS NULL OR {alias}.created_at < :until)"
           f" AND (CAST(:after_at AS timestamptz) IS NULL"
           f" OR ({alias}.created_at, {alias}.id) < (:after_at, :after_id))"
           f" ORDER BY {alias}.created_at DESC, {alias}.id DESC LIMIT :limit")
    rows = [dict(row._mapping) for row in conn.execute(text(sql), {
        "u": user_id, "sym": query.token.upper() if query.token else None,
        "since": query.since, "until": query.until, "after_at": after[0], "after_id": after[1],
        "limit": query.limit + 1})]
    more = len(rows) > query.limit
    items = rows[:query.limit]
    last = items[-1] if more else None
    return Page(items, encode_cursor(last["created_at"], last["id"]) if last else None)
