"""One translation of database exceptions (alefctl/db/errors.py), used by every front end."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from alefctl.db.errors import database_error
from alefctl.errors import AlefError, Unavailable
from alefctl.server.problems import problem_for
from alefctl.tui.services import describe_error


def _raised(engine: Engine, sql: str) -> Exception:
    with pytest.raises(Exception) as caught, engine.begin() as conn:
        conn.execute(text(sql))
    return caught.value


def test_refused_connection_is_unavailable_everywhere() -> None:
    engine = create_engine("postgresql+psycopg://u@127.0.0.1:9/none",
                           connect_args={"connect_timeout": 2})
    exc = _raised(engine, "SELECT 1")
    translated = database_error(exc)
    assert isinstance(translated, Unavailable) and translated.exit_code == 6
    assert translated.message.startswith("database unavailable: ")
    assert describe_error(exc) == translated.message
    response = problem_for(exc)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


def test_a_refused_statement_is_a_plain_error(engine: Engine) -> None:
    exc = _raised(engine, "SELECT * FROM no_such_table")
    translated = database_error(exc)
    assert type(translated) is AlefError and translated.exit_code == 1
    assert translated.message.startswith("database refused the change: relation")
    assert describe_error(exc) == translated.message
    assert problem_for(exc).status_code == 500  # never the database's text to an HTTP client


def test_a_refused_value_is_bad_input_over_http(engine: Engine) -> None:
    exc = _raised(engine, "SELECT CAST(9223372036854775807 AS bigint) + 1")
    assert type(database_error(exc)) is AlefError  # the commands keep exit 1
    response = problem_for(exc)
    assert response.status_code == 422 and b"invalid_input" in response.body


def test_other_exceptions_are_not_translated() -> None:
    assert database_error(ValueError("x")) is None
    assert describe_error(ValueError("x")) == "unexpected ValueError: x"
