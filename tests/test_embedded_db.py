"""With nothing configured, alefctl runs on an embedded PostgreSQL shared by every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from alefctl.db.embedded import embedded_url
from alefctl.db.schema import latest_version, migrations

LATEST = latest_version()
PREVIOUS = max([1, *(m.version for m in migrations() if m.version < LATEST)])  # numbers may skip

ALEFCTL = [sys.executable, "-m", "alefctl"]


@pytest.fixture
def home(tmp_path: Path):  # noqa: ANN201
    """A data directory with no database URL configured; the embedded server is stopped after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALEF_")}
    env["ALEF_HOME"] = str(tmp_path / "home")
    yield env
    subprocess.run([*ALEFCTL, "db", "stop"], env=env, capture_output=True, timeout=60)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ALEFCTL, *args], env=env, capture_output=True, text=True, timeout=120)


def test_embedded_server_is_started_initialized_and_shared(home) -> None:  # noqa: ANN001
    first = _run(home, "user", "list", "--json")  # starts the server and applies the schema
    assert first.returncode == 0, first.stderr
    assert {u["email"] for u in json.loads(first.stdout)} >= {"treasury@system.alefctl"}
    status = json.loads(_run(home, "db", "status", "--json").stdout)
    assert status["embedded"] is True and status["schema_version"] == LATEST
    assert Path(status["location"]).is_dir()
    server = create_engine(embedded_url(Path(status["location"])))
    with server.connect() as conn:
        assert conn.execute(text("SHOW wal_init_zero")).scalar_one() == "off"  # embedded.py
    server.dispose()

    # A second process holds a connection (and so the server) while commands run beside it.
    holder_code = (
        "import sys, time\n"
        "from alefctl.settings import load_settings\n"
        "from alefctl.db import connect\n"
        "engine = connect(load_settings())\n"
        "with engine.connect() as conn:\n"
        "    print('holding', flush=True)\n"
        "    time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", holder_code], env=home,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        created = _run(home, "user", "create", "--email", "p@x.io", "--name", "P", "--json")
        assert created.returncode == 0, created.stderr
        listed = _run(home, "user", "list", "--json")
        assert "p@x.io" in {u["email"] for u in json.loads(listed.stdout)}
    finally:
        holder.kill()
        holder.wait()

    stopped = _run(home, "db", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stderr
    time.sleep(0.5)
    again = _run(home, "user", "show", "p@x.io", "--json")  # restarts; the data survived
    assert again.returncode == 0, again.stderr


def test_an_embedded_database_behind_this_alefctl_is_brought_up_to_date(home) -> None:  # noqa: ANN001
    assert _run(home, "user", "list", "--json").returncode == 0
    rewind = (  # as if the database had been made by the alefctl before the newest migration
        "from sqlalchemy import text\n"
        "from alefctl.settings import load_settings\n"
        "from alefctl.db import connect\n"
        "with connect(load_settings(), owner=True).begin() as conn:\n"
        f"    conn.execute(text('DELETE FROM schema_migrations WHERE version = {LATEST}'))\n"
    )
    subprocess.run([sys.executable, "-c", rewind], env=home, check=True, timeout=60)
    assert json.loads(_run(home, "db", "status", "--json").stdout)["schema_version"] == PREVIOUS
    listed = _run(home, "user", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(_run(home, "db", "status", "--json").stdout)["schema_version"] == LATEST
