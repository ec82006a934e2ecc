"""Database access: one SQLAlchemy engine per process, on the embedded server or a URL."""

from __future__ import annotations

from alefctl.db.connection import connect, database_url, is_embedded

__all__ = ["connect", "database_url", "is_embedded"]
