"""Property-based requests from the app's own OpenAPI document: no input ever answers 5xx.

schemathesis generates requests for every operation (valid ones, and invalid ones: wrong
types, missing fields, NUL characters, huge numbers), sent over HTTP to a real uvicorn on
127.0.0.1 serving the app on its own database, as an admin and as an investor. A bounded number
of examples per operation keeps the test near a minute on a 2-core machine.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from platform_builders import build_platform, live_token
from sqlalchemy import create_engine

from alefctl.server import create_app
from alefctl.settings import load_settings
from alefctl.workflows.api_keys import create_api_key

EXAMPLES_PER_OPERATION = 40


@dataclass
class Served:
    """The running server: its base URL and one API key per role."""

    url: str
    keys: dict[str, str]


@pytest.fixture(scope="module")
def served(new_database, chain_client,  # noqa: ANN001
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app under uvicorn on a loopback port, with a live token (FUZZ) and an investor."""
    db_url = new_database()
    engine = create_engine(db_url)
    platform = build_platform(engine)
    live_token(platform, chain_client, "FUZZ", {"ivy": 50})
    with engine.begin() as conn:
        keys = {role: create_api_key(conn, platform.admin, email, "fuzz")[1]
                for role, email in (("admin", "admin@x.io"), ("investor", "ivy@x.io"))}
    home = tmp_path_factory.mktemp("fuzz") / "home"
    # Rate limits checked on every request, too high to refuse one: a 429 would keep the
    # generated request from the route it is meant to test.
    app = create_app(load_settings(home=home, database={"url": db_url},
                                   server={"settlement_loop": False},
                                   ratelimit={"orders_per_s": 10**6, "reads_per_s": 10**6}), engine)
    server, thread, url = _start(app)
    try:
        yield Served(url, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        engine.dispose()


def _start(app) -> tuple[object, threading.Thread, str]:  # noqa: ANN001
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def _openapi() -> dict:
    """The app's OpenAPI document (the app is only built, not started: no database needed).

    Loaded when the module is collected: schemathesis's fixture-based schema (from_fixture)
    relies on a pytest internal that pytest 9 no longer has."""
    return create_app(load_settings(home=Path("/nonexistent"))).openapi()


schema = schemathesis.openapi.from_dict(_openapi())
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION)

# Values PostgreSQL refuses where pydantic alone would let them through: NUL in text, times
# without a zone, integers past BIGINT, numbers past NUMERIC's range. One of them replaces one
# generated value (a path or query parameter, or a leaf of the JSON body) in some cases.
HOSTILE_TEXT = ("\x00", "ok\x00", "2030-01-01T00:00:00", "2030-01-01 12:00", "9" * 40 + ".5",
                "1e400", "-1E+1000", "1e-400", "NaN", "Infinity", "-inf")
HOSTILE_NUMBERS = (2**63, -(2**63) - 1, 10**40, 1e308, -1e308, 5e-324)


@schema.hook
def before_generate_case(context, strategy):  # noqa: ANN001, ANN201
    """Generated cases, and some of them with one value made hostile."""
    return strategy.flatmap(lambda case: st.one_of(st.just(case), _hostile(context.operation,
                                                                            case)))


def _hostile(operation, case):  # noqa: ANN001, ANN202
    places = [("path_parameters", (name,)) for name in case.path_parameters]
    places += [("query", (parameter.name,)) for parameter in operation.query]
    if isinstance(case.body, dict | list):
        places += [("body", path) for path in _leaf_paths(case.body)]
    if not places:
        return st.just(case)
    values = st.sampled_from(HOSTILE_TEXT + HOSTILE_NUMBERS)
    return st.tuples(st.sampled_from(places), values).map(
        lambda choice: _with_value(case, *choice[0], choice[1]))


def _leaf_paths(value, path: tuple = ()) -> list[tuple]:  # noqa: ANN001
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return [path] if path else []
    inner = [leaf for key, child in children for leaf in _leaf_paths(child, (*path, key))]
    return ([path] if path else []) + inner


def _with_value(case, part: str, path: tuple, value: object):  # noqa: ANN001, ANN202
    """A copy of the case with the value at part/path replaced."""
    import copy

    parts = {name: getattr(case, name) for name in ("path_parameters", "query", "body")}
    changed = copy.deepcopy(parts[part]) if isinstance(parts[part], dict | list) else {}
    container = changed
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value
    parts[part] = changed
    return case.operation.Case(
        path_parameters=parts["path_parameters"], query=parts["query"], headers=case.headers,
        body=parts["body"], media_type=case.media_type)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_answers_5xx(case, served: Served) -> None:  # noqa: ANN001
    for role, key in served.keys.items():  # each generated request as an admin, an investor
        response = case.call(base_url=served.url, timeout=30,
                             headers={"Authorization": f"Bearer {key}"})
        assert response.status_code < 500, (
            f"{response.status_code} as {role}: {case.method} {case.path}"
            f" path={case.path_parameters!r} query={case.query!r} body={case.body!r}\n"
            f"{response.text[:500]}")
