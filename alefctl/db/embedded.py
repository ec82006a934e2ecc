"""The embedded PostgreSQL server (pgserver) in <home>/pgdata, shared by every alefctl process.

The server keeps running after a command ends, so the next command connects at once;
`alefctl db stop` stops it. A running server is found from its postmaster.pid without
importing pgserver, which keeps short commands fast.
"""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_NAME = "alefctl"
# Set on the embedded server each time alefctl starts it (ALTER SYSTEM keeps them in its data
# directory). wal_init_zero off: a new WAL segment is created without first writing it full of
# zeros. Under load a young database needs a new 16 MB segment every few seconds; PostgreSQL
# writes and fsyncs it while holding the WAL write lock, and on a virtual disk that stalled every
# commit behind it for 100-300 ms (blocks are then allocated as WAL is written, and each commit's
# fdatasync makes them durable).
SERVER_SETTINGS = "ALTER SYSTEM SET wal_init_zero = off; SELECT pg_reload_conf();"
# Who connects. The superuser (postgres) owns the schema and runs `db init` and migrations only;
# every other connection of alefctl is the application role, which owns nothing and may not
# change or delete audit rows (migration 0007_app_role grants it what it needs; README,
# "Database roles").
OWNER_ROLE = "postgres"
APP_ROLE = "alef_app"
CREATE_APP_ROLE = (f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}')"
                   f" THEN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
                   f" NOBYPASSRLS; END IF; END $$;")


def running_socket_dir(pgdata: Path) -> Path | None:
    """The socket directory of a ready server in pgdata, or None if none is running."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    return Path(lines[4].strip())


def embedded_url(pgdata: Path, *, owner: bool = True) -> str:
    """Start the embedded server if needed and return a SQLAlchemy URL to alefctl's database, as
    its owner (the superuser: schema changes) or as the application role (owner=False)."""
    socket_dir = running_socket_dir(pgdata)
    if socket_dir is None:
        socket_dir = _start(pgdata)
    user = OWNER_ROLE if owner else APP_ROLE
    return f"postgresql+psycopg://{user}@/{DATABASE_NAME}?host={socket_dir}"


def _start(pgdata: Path) -> Path:
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in existing:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    server.psql(SERVER_SETTINGS)
    server.psql(CREATE_APP_ROLE)
    socket_dir = running_socket_dir(pgdata)
    if socket_dir is None:
        raise RuntimeError(f"embedded PostgreSQL in {pgdata} did not report ready")
    return socket_dir


def stop(pgdata: Path, timeout_s: float = 60.0) -> bool:
    """Stop the embedded server (fast shutdown, then immediate); False when none was running.

    The postmaster is signalled directly: pg_ctl would run as the server's own user, which
    may not be allowed into the data directory's parents (a private temp dir, say).
    """
    import signal

    if running_socket_dir(pgdata) is None:
        return False
    pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    for sig in (signal.SIGINT, signal.SIGQUIT):  # fast shutdown; immediate if it hangs
        os.kill(pid, sig)
        if _exited(pid, timeout_s):
            return True
    raise TimeoutError(f"embedded PostgreSQL (pid {pid}) did not stop")


def _exited(pid: int, timeout_s: float) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
