"""Per-user rate limits: token buckets in the database, two budgets (order entry, reads), 429
problem+json with Retry-After, counted in metrics, per-user overrides by an admin, shared by
every server process (server/rate_limit.py, workflows/rate_limits.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from platform_builders import live_token, wallet_for
from server_client import Api, place
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from alefctl.server import create_app
from alefctl.server.metrics import Metrics
from alefctl.server.rate_limit import RateLimiter, budget_of
from alefctl.settings import load_settings
from alefctl.workflows.actor import Actor
from alefctl.workflows.rate_limits import Limits, take_tokens

ORDER = {"token_id": "DATE", "side": "buy", "order_type": "limit", "quantity": 1, "price": "9.00"}


@contextmanager
def limited_api(engine: Engine, db_url: str, home: Path, admin: Actor,
                **ratelimit: object) -> Iterator[Api]:
    """The app on this test's database with these rate-limit settings."""
    settings = load_settings(home=home, database={"url": db_url},
                             server={"settlement_loop": False}, ratelimit=ratelimit)
    with TestClient(create_app(settings, engine)) as client:
        yield Api(client, engine, admin)


@pytest.fixture
def trading(platform, chain_client):  # noqa: ANN001, ANN201
    """DATE trading; alice holds 100, carol has $50,000 (the market fixture, without its server)."""
    live_token(platform, chain_client, "DATE", {"alice": 100})
    platform.approved("carol", wallet=wallet_for("carol"), fiat="50000")


@pytest.fixture
def tight(trading, platform, engine, db_url, tmp_path):  # noqa: ANN001, ANN201
    """DATE trading, behind limits of 1 order request and 1 read a second, a burst of 3 s."""
    with limited_api(engine, db_url, tmp_path / "tight", platform.admin,
                     orders_per_s=1, reads_per_s=1, burst_s=3) as api:
        yield api


def _counted(api: Api, budget: str) -> float:
    metrics = api.client.get("/metrics").text
    line = f'alef_rate_limited_total{{budget="{budget}"}}'
    return next((float(row.split()[-1]) for row in metrics.splitlines()
                 if row.startswith(line)), 0.0)


def test_order_entry_over_the_rate_is_429_with_retry_after(tight) -> None:  # noqa: ANN001
    answers = [tight.call("POST", "/api/v1/orders", "carol@x.io", json=ORDER) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [201, 201, 201]
    refused = answers[3]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["type"] == "urn:alefctl:problem:rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert _counted(tight, "orders") == 1
    # a cancel and a malformed order draw from the same budget; reads have their own
    order_id = answers[0].json()["id"]
    assert tight.call("DELETE", f"/api/v1/orders/{order_id}", "carol@x.io").status_code == 429
    assert tight.call("POST", "/api/v1/orders", "carol@x.io", content=b"{").status_code == 429
    assert tight.call("GET", "/api/v1/orders", "carol@x.io").status_code == 200
    assert tight.call("POST", "/api/v1/orders", "alice@x.io",  # another user's own budget
                      json={**ORDER, "side": "sell", "price": "11.00"}).status_code == 201
    time.sleep(1.1)  # 1 a second: a token back
    assert tight.call("DELETE", f"/api/v1/orders/{order_id}", "carol@x.io").status_code == 200


def test_reads_have_their_own_budget(tight) -> None:  # noqa: ANN001
    statuses = [tight.call("GET", "/api/v1/orders", "carol@x.io").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    assert place(tight, "carol", "buy", 1, "9.00").status_code == 201
    assert _counted(tight, "reads") >= 1


def test_requests_without_a_valid_key_are_401_not_429(tight) -> None:  # noqa: ANN001
    for _ in range(5):
        assert tight.call("GET", "/api/v1/orders").status_code == 401
        assert tight.call("POST", "/api/v1/orders", json=ORDER,
                          headers={"Authorization": "Bearer alef_nope"}).status_code == 401
    assert tight.call("GET", "/healthz").status_code == 200  # not the API: never limited


def test_websocket_messages_count_as_reads(tight) -> None:  # noqa: ANN001
    key = tight.key("carol@x.io")
    with tight.client.websocket_connect(f"/api/v1/ws?api_key={key}") as socket:
        answers = []
        for _ in range(4):
            socket.send_json({"op": "subscribe", "channel": "trades:DATE"})
            answers.append(socket.receive_json())
    assert [a["type"] for a in answers[:3]] == ["subscribed"] * 3
    assert (answers[3]["type"], answers[3]["code"]) == ("error", "rate_limited")


def test_an_admin_gives_one_user_other_rates(tight, cli, db_url) -> None:  # noqa: ANN001
    shown = cli.json("user", "rate-limit", "carol@x.io")
    assert (shown["orders_per_s"], shown["orders_source"]) == (50, "default")
    changed = cli.json("user", "rate-limit", "carol@x.io", "--orders", "2")
    assert changed["changed"] and (changed["orders_per_s"], changed["orders_source"]) == (2, "user")
    assert changed["reads_source"] == "default"
    again = cli.json("user", "rate-limit", "carol@x.io", "--orders", "2")
    assert not again["changed"]
    # the server's default is 1 a second (a burst of 3); carol's own rate is 2 (a burst of 6)
    statuses = [tight.call("POST", "/api/v1/orders", "carol@x.io", json=ORDER).status_code
                for _ in range(12)]
    assert statuses[:6] == [201] * 6 and 429 in statuses
    engine = create_engine(db_url)
    with engine.connect() as conn:
        audited = conn.execute(text(
            "SELECT before, after FROM audit_logs WHERE action = 'user.rate_limit'")).all()
    engine.dispose()
    assert [(row.before["orders_per_s"], row.after["orders_per_s"]) for row in audited] == [(None, 2)]
    reset = cli.json("user", "rate-limit", "carol@x.io", "--reset")
    assert reset["changed"] and reset["orders_source"] == "default"


@pytest.mark.parametrize(("args", "code"), [
    (("--orders", "0"), 2), (("--reads", "-1"), 2), (("--reset", "--orders", "3"), 2),
])
def test_bad_rates_are_refused(cli, platform, args: tuple[str, ...], code: int) -> None:  # noqa: ANN001
    platform.approved("ivy")
    result = cli("user", "rate-limit", "ivy@x.io", *args)
    assert result.exit_code == code, result.output
    assert result.stderr.count("\n") == 1


def test_only_admins_set_rates(cli, platform) -> None:  # noqa: ANN001
    platform.approved("ivy")
    result = cli.as_user("ivy@x.io")("user", "rate-limit", "ivy@x.io", "--orders", "500")
    assert result.exit_code == 4
    assert cli("user", "rate-limit", "nobody@x.io").exit_code == 3


def test_a_bucket_grants_its_burst_then_its_rate(engine, platform) -> None:  # noqa: ANN001
    user_id = platform.approved("ivy").user_id
    limits = Limits(orders_per_s=10, reads_per_s=1, burst_s=2)
    with engine.begin() as conn:
        first = take_tokens(conn, {(user_id, "orders"): 25, (user_id, "reads"): 3}, limits)
    assert first[(user_id, "orders")].granted == 20  # the burst: 2 s of 10 a second
    assert first[(user_id, "reads")].granted == 2
    time.sleep(0.35)
    with engine.begin() as conn:
        later = take_tokens(conn, {(user_id, "orders"): 25, (user_id, "reads"): 1}, limits)
    assert 3 <= later[(user_id, "orders")].granted <= 5  # ~3.5 tokens came back
    assert later[(user_id, "reads")].granted == 0
    assert 0 < later[(user_id, "reads")].seconds_to_next() <= 1


def test_server_processes_share_the_buckets(engine, db_url, platform) -> None:  # noqa: ANN001
    """Two limiters on their own connections, as two server processes have: together they
    grant no more than one bucket holds."""
    user_id = platform.approved("ivy").user_id
    limits = Limits(orders_per_s=5, reads_per_s=5, burst_s=2)  # a burst of 10
    engines = [create_engine(db_url) for _ in range(2)]

    limiters = [RateLimiter(db, limits, Metrics()) for db in engines]

    async def flood() -> list[float | None]:
        return await asyncio.gather(*(limiters[n % 2].wait(user_id, "orders") for n in range(40)))

    started = time.monotonic()
    waits = asyncio.run(flood())
    elapsed = time.monotonic() - started
    for limiter, db in zip(limiters, engines, strict=True):
        limiter.close()
        db.dispose()
    granted = waits.count(None)
    assert 10 <= granted <= 10 + 5 * elapsed + 1
    assert all(wait is None or wait > 0 for wait in waits)


def test_an_empty_bucket_is_refused_without_the_database(engine, platform) -> None:  # noqa: ANN001
    user_id = platform.approved("ivy").user_id
    metrics = Metrics()
    limiter = RateLimiter(engine, Limits(orders_per_s=1, reads_per_s=1, burst_s=1), metrics)

    async def run() -> tuple[float | None, float | None]:
        assert await limiter.wait(user_id, "orders") is None
        limiter.close()
        limiter.db = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # unusable
        return await limiter.wait(user_id, "orders"), await limiter.wait(user_id, "reads")

    refused, unknown = asyncio.run(run())
    assert refused is not None and 0 < refused <= 1  # known empty: no statement needed
    assert unknown is None  # the database cannot be asked: the request goes on
    statements = metrics.registry.get_sample_value("alef_rate_limit_check_seconds_count")
    assert asyncio.run(limiter.wait(user_id, "reads")) is None  # for a second, without asking
    assert metrics.registry.get_sample_value("alef_rate_limit_check_seconds_count") == statements
    assert metrics.rate_limited.labels("orders")._value.get() == 1


def test_limits_can_be_switched_off(trading, platform, engine, db_url, tmp_path) -> None:  # noqa: ANN001
    with limited_api(engine, db_url, tmp_path / "off", platform.admin, enabled=False,
                     orders_per_s=1, burst_s=1) as api:
        statuses = {api.call("GET", "/api/v1/orders", "carol@x.io").status_code for _ in range(5)}
    assert statuses == {200}


@pytest.mark.parametrize(("method", "path", "budget"), [
    ("POST", "/api/v1/orders", "orders"), ("DELETE", "/api/v1/orders/x", "orders"),
    ("DELETE", "/api/v1/orders", "orders"), ("PATCH", "/api/v1/orders/x", "orders"),
    ("POST", "/api/v1/orders/cancel-all-after", "orders"), ("POST", "/api/v1/otc/orders", "orders"),
    ("GET", "/api/v1/orders", "reads"), ("GET", "/api/v1/orderbook/DATE", "reads"),
    ("POST", "/api/v1/admin/otc-orders/x", "reads"), ("POST", "/api/v1/kyc", "reads"),
    ("GET", "/healthz", None), ("GET", "/metrics", None), ("GET", "/docs", None),
])
def test_budgets_of_requests(method: str, path: str, budget: str | None) -> None:
    assert budget_of(method, path) == budget


def test_a_refusal_is_answered_after_a_pause(engine, platform) -> None:  # noqa: ANN001
    """A client that sends again at once waits for each refusal: a flood on one connection is
    slowed to a few requests a second."""
    user_id = platform.approved("ivy").user_id
    limiter = RateLimiter(engine, Limits(orders_per_s=1, reads_per_s=1, burst_s=1), Metrics(),
                          pause_s=0.3)

    async def run() -> tuple[float | None, float | None, float]:
        granted = await limiter.refusal(user_id, "orders")
        started = time.monotonic()
        refused = await limiter.refusal(user_id, "orders")
        return granted, refused, time.monotonic() - started

    granted, refused, took = asyncio.run(run())
    limiter.close()
    assert granted is None and refused is not None
    assert took >= 0.3
