"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test.

The schema is applied once to a template database; each test gets a copy (CREATE DATABASE ...
TEMPLATE), so tests are isolated and fast. Set ALEF_TEST_DATABASE_URL to use another server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

FIRST_ADMIN: dict[str, str] = {}  # the template's first admin: its API key
TEMPLATE_DB = "alef_template"


def _admin_url(base: str, database: str) -> str:
    head, _, tail = base.partition("?")
    head = head.rsplit("/", 1)[0] + "/" + database
    return head + ("?" + tail if tail else "")


@pytest.fixture(scope="session")
def pg_base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server for the session: ALEF_TEST_DATABASE_URL, else an embedded one."""
    external = os.environ.get("ALEF_TEST_DATABASE_URL")
    if external:
        yield external.replace("postgresql://", "postgresql+psycopg://", 1)
        return
    from alefctl.db import embedded

    pgdata = tmp_path_factory.mktemp("pg") / "pgdata"
    url = embedded.embedded_url(pgdata)
    yield url
    embedded.stop(pgdata)


@pytest.fixture(scope="session")
def template_db(pg_base_url: str) -> str:
    """A database with the schema applied and its first admin, copied by every test."""
    from alefctl.db.schema import init_schema
    from alefctl.workflows.api_keys import bootstrap_admin

    admin = create_engine(_admin_url(pg_base_url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {TEMPLATE_DB}"))
    admin.dispose()
    engine = create_engine(_admin_url(pg_base_url, TEMPLATE_DB))
    with engine.begin() as conn:
        init_schema(conn)
        _email, FIRST_ADMIN["api_key"] = bootstrap_admin(conn, "admin@localhost")  # type: ignore[misc]
    engine.dispose()
    return TEMPLATE_DB


def _create_database(pg_base_url: str, template: str | None) -> str:
    name = "t_" + secrets.token_hex(6)
    admin = create_engine(_admin_url(pg_base_url, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        suffix = f" TEMPLATE {template}" if template else ""
        conn.execute(text(f"CREATE DATABASE {name}{suffix}"))
    admin.dispose()
    return _admin_url(pg_base_url, name)


@pytest.fixture(scope="session")
def new_database(pg_base_url: str, template_db: str) -> Callable[[], str]:
    """Makes a fresh database with the current schema (for fixtures wider than one test)."""
    return lambda: _create_database(pg_base_url, template_db)


@pytest.fixture
def db_url(pg_base_url: str, template_db: str) -> str:
    """A fresh database with the current schema and the system users."""
    return _create_database(pg_base_url, template_db)


@pytest.fixture
def empty_db_url(pg_base_url: str) -> str:
    """A fresh database with no schema at all."""
    return _create_database(pg_base_url, None)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on this test's database."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def cli_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for commands: this test's database and a private data directory."""
    return {"ALEF_HOME": str(tmp_path / "home"), "ALEF_DATABASE_URL": db_url,
            "ALEF_API_KEY": FIRST_ADMIN["api_key"], "ALEF_CONFIG": ""}


class Cli:
    """Runs alefctl commands in-process with Typer's CliRunner, as the first admin (admin@localhost)
    unless made to act as another user with `as_user`."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.runner = CliRunner()

    def as_user(self, email: str) -> Cli:
        """The same commands acting with a new API key of that user."""
        from alefctl.workflows.actor import resolve_actor
        from alefctl.workflows.api_keys import create_api_key

        engine = create_engine(self.env["ALEF_DATABASE_URL"])
        with engine.begin() as conn:
            operator = resolve_actor(conn, None, "cli")
            _key, secret = create_api_key(conn, operator, email, "test")
        engine.dispose()
        return Cli({**self.env, "ALEF_API_KEY": secret})

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Result:
        from alefctl.cli import app

        return self.runner.invoke(app, list(args), env={**self.env, **env}, input=input)

    def json(self, *args: str, input: str | None = None, **env: str):  # noqa: ANN201 - parsed JSON
        """Run with --json, assert success, return the parsed output."""
        import json

        result = self(*args, "--json", input=input, **env)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def make_cli(template_db: str) -> Callable[..., Cli]:
    """A Cli acting as the first admin on a database of one's own (for module-scoped worlds;
    test modules cannot import this conftest by name: tests/chain has one too)."""
    def make(db_url: str, home: Path, **env: str) -> Cli:
        return Cli({"ALEF_HOME": str(home), "ALEF_DATABASE_URL": db_url,
                    "ALEF_API_KEY": FIRST_ADMIN["api_key"], "ALEF_CONFIG": "", **env})
    return make


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    """Invoke alefctl commands against this test's database."""
    return Cli(cli_env)


@pytest.fixture
def platform(engine: Engine):  # noqa: ANN201
    """Admin, reviewer and an issuer with approved KYC on this test's database."""
    from platform_builders import build_platform

    return build_platform(engine)


@pytest.fixture
def api(engine: Engine, db_url: str, tmp_path: Path, platform):  # noqa: ANN001, ANN201
    """The HTTP API on this test's database; `api.call(method, path, as_user=email, json=...)`."""
    from server_client import running_api

    with running_api(engine, db_url, tmp_path / "home", platform.admin) as client:
        yield client


@pytest.fixture(scope="session")
def chain_client(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The embedded EVM for the session (contracts deployed per test as needed)."""
    import chain

    client = chain.connect(data_dir=tmp_path_factory.mktemp("chain"))
    yield client
    client.close()


@pytest.fixture
def market(platform, chain_client, api):  # noqa: ANN001, ANN201
    """DATE trading at a $10 primary price: alice and bob hold 100 each, carol none; all three
    have KYC level 2 and $50,000 less their subscriptions. Yields the HTTP client."""
    from platform_builders import live_token, wallet_for

    live_token(platform, chain_client, "DATE", {"alice": 100, "bob": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")
    return api
