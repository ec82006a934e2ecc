"""The API key cache: lookups batched, one per key at a time, refreshed before it expires,
revocation within CACHE_SECONDS."""

from __future__ import annotations

import asyncio
import time

import pytest

from alefctl.errors import PermissionDenied, Unavailable
from alefctl.server import auth
from alefctl.server.auth import CACHE_SECONDS, REFRESH_SECONDS, KeyCache
from alefctl.workflows.api_keys import create_api_key, revoke_api_key


@pytest.fixture
def key(platform):  # noqa: ANN001, ANN201
    platform.approved("carol")
    with platform.engine.begin() as conn:
        created, secret = create_api_key(conn, platform.admin, "carol@x.io", "tests")
    return str(created.id), secret


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The database lookups in order, each as the secrets it looked up together."""
    seen: list[list[str]] = []
    real = auth._authenticate

    def counting(db, secrets: list[str]):  # noqa: ANN001, ANN202
        seen.append(list(secrets))
        return real(db, secrets)

    monkeypatch.setattr(auth, "_authenticate", counting)
    return seen


async def _cached_then_revoked(platform, cache: KeyCache, key: tuple[str, str], age: float) -> None:  # noqa: ANN001
    """The key authenticated into the cache, its entry made `age` seconds old, then revoked."""
    await cache.actor(platform.engine, key[1])
    _at, actor = cache._entries[key[1]]
    cache._entries[key[1]] = (time.monotonic() - age, actor)
    with platform.engine.begin() as conn:
        revoke_api_key(conn, platform.admin, key[0])


def test_callers_that_miss_together_share_one_lookup(platform, key, lookups) -> None:  # noqa: ANN001
    cache = KeyCache()

    async def many() -> list:
        return await asyncio.gather(*(cache.actor(platform.engine, key[1]) for _ in range(50)))

    actors = asyncio.run(many())
    assert lookups == [[key[1]]] and {a.email for a in actors} == {"carol@x.io"}


def test_a_key_in_use_is_refreshed_in_the_background_and_revocation_applies(platform, key, lookups) -> None:  # noqa: ANN001
    cache = KeyCache()

    async def scenario() -> None:
        await _cached_then_revoked(platform, cache, key, REFRESH_SECONDS + 0.1)
        # still within CACHE_SECONDS: answered from the cache, a lookup starts behind it
        assert (await cache.actor(platform.engine, key[1])).email == "carol@x.io"
        await asyncio.gather(cache._lookups[key[1]], return_exceptions=True)  # it finds the revocation
        await asyncio.sleep(0)  # and its done callback drops the entry
        with pytest.raises(PermissionDenied):
            await cache.actor(platform.engine, key[1])

    asyncio.run(scenario())
    assert lookups == [[key[1]]] * 3


def test_an_expired_entry_is_looked_up_before_answering(platform, key, lookups) -> None:  # noqa: ANN001
    cache = KeyCache()

    async def scenario() -> None:
        await _cached_then_revoked(platform, cache, key, CACHE_SECONDS + 0.1)
        with pytest.raises(PermissionDenied):
            await cache.actor(platform.engine, key[1])

    asyncio.run(scenario())
    assert lookups == [[key[1]]] * 2


def test_keys_asked_for_together_are_looked_up_in_one_batch(platform, lookups) -> None:  # noqa: ANN001
    """Keys that miss, or come due for a refresh, while a lookup runs go together in the next
    one: one transaction for all, not a commit per key (those stalled the order path)."""
    names = ("ann", "bob", "cy")
    for name in names:
        platform.approved(name)
    with platform.engine.begin() as conn:
        secrets = [create_api_key(conn, platform.admin, f"{name}@x.io", "tests")[1] for name in names]
    cache = KeyCache()

    async def scenario() -> None:
        first = await asyncio.gather(*(cache.actor(platform.engine, s) for s in [*secrets, "alef_nope"]),
                                     return_exceptions=True)
        assert [getattr(a, "email", None) for a in first[:3]] == ["ann@x.io", "bob@x.io", "cy@x.io"]
        assert isinstance(first[3], PermissionDenied)
        for secret in secrets:  # all come due together
            _at, actor = cache._entries[secret]
            cache._entries[secret] = (time.monotonic() - REFRESH_SECONDS - 0.1, actor)
        assert [(await cache.actor(platform.engine, s)).email for s in secrets] == \
            ["ann@x.io", "bob@x.io", "cy@x.io"]  # from the cache, refreshed behind
        await asyncio.gather(*cache._lookups.values())
        assert all(time.monotonic() - cache._entries[s][0] < 1 for s in secrets)

    asyncio.run(scenario())
    assert lookups == [[*secrets, "alef_nope"], secrets]


def test_a_failed_lookup_gives_each_caller_its_own_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def down(_db, _secrets):  # noqa: ANN001, ANN202
        raise ConnectionError("database is down")

    monkeypatch.setattr(auth, "_authenticate", down)
    cache = KeyCache()

    async def many() -> list:
        return await asyncio.gather(*(cache.actor(None, "alef_k") for _ in range(3)),
                                    return_exceptions=True)

    errors = asyncio.run(many())
    assert all(isinstance(e, Unavailable) and "database is down" in str(e) for e in errors)
    assert len({id(e) for e in errors}) == 3 and not cache._entries  # nothing cached
