"""The database a benchmark runs on: ALEF_DATABASE_URL if set, else a throwaway embedded
PostgreSQL that is stopped and removed afterwards."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine


@contextmanager
def scratch_engine(name: str) -> Iterator[Engine]:
    """An engine on the benchmark's database; `name` marks the temporary directory."""
    url = os.environ.get("ALEF_DATABASE_URL")
    pgdata = None
    if url is None:
        from alefctl.db import embedded

        pgdata = Path(tempfile.mkdtemp(prefix=f"alef-bench-{name}-")) / "pgdata"
        url = embedded.embedded_url(pgdata)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        yield engine
    finally:
        engine.dispose()
        if pgdata is not None:
            from alefctl.db import embedded

            embedded.stop(pgdata)
            shutil.rmtree(pgdata.parent, ignore_errors=True)
