"""The store, for real on both backends: values with expiry, deletes, fixed-window counters.

The Redis backend runs against `TEST_REDIS_URL` (default redis://127.0.0.1:6379/0). Each test uses
its own key prefix and deletes its keys afterwards, so parallel runs never collide. Without a
reachable Redis the Redis cases are skipped locally and fail in CI.
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from redis.asyncio import Redis

from shared.settings import RedisSettings
from shared.stores import (
    MemoryStore,
    RedisStore,
    Store,
    StoreDep,
    StoreUnavailable,
    create_store,
    open_store,
)
from tests.redis_support import TEST_REDIS_URL, delete_prefix, require_redis, unique_prefix

pytestmark = pytest.mark.anyio


async def test_get_returns_what_set_stored(store: Store) -> None:
    assert await store.get("missing") is None
    await store.set("greeting", b"hello \x00 bytes", ttl_seconds=30)
    assert await store.get("greeting") == b"hello \x00 bytes"
    await store.set("greeting", b"replaced", ttl_seconds=30)
    assert await store.get("greeting") == b"replaced"


async def test_get_many_reads_several_keys_in_order(store: Store) -> None:
    await store.set("first", b"1", ttl_seconds=30)
    await store.set("third", b"3", ttl_seconds=30)
    await store.hit("counter", window_seconds=30)
    assert await store.get_many(["third", "missing", "first", "counter"]) == [
        b"3",
        None,
        b"1",
        b"1",
    ]
    assert await store.get_many([]) == []


async def test_get_many_leaves_out_expired_values(store: Store) -> None:
    await store.set("short", b"1", ttl_seconds=0.15)
    await store.set("long", b"2", ttl_seconds=30)
    assert await store.get_many(["short", "long"]) == [b"1", b"2"]
    await asyncio.sleep(0.25)
    assert await store.get_many(["short", "long"]) == [None, b"2"]


async def test_values_expire_after_their_ttl(store: Store) -> None:
    await store.set("short", b"1", ttl_seconds=0.15)
    await store.set("long", b"2", ttl_seconds=30)
    assert await store.get("short") == b"1"
    await asyncio.sleep(0.25)
    assert await store.get("short") is None
    assert await store.get("long") == b"2"


async def test_delete_removes_a_key_and_ignores_missing_ones(store: Store) -> None:
    await store.set("doomed", b"x", ttl_seconds=30)
    await store.delete("doomed")
    await store.delete("never-there")
    assert await store.get("doomed") is None


async def test_hits_count_up_within_one_window(store: Store) -> None:
    counts = []
    for _ in range(3):
        count, left = await store.hit("login:a", window_seconds=60)
        counts.append(count)
        assert 59 < left <= 60 + 1e-6
    assert counts == [1, 2, 3]
    # Another key has its own count.
    assert (await store.hit("login:b", window_seconds=60))[0] == 1


async def test_the_window_is_fixed_from_the_first_hit(store: Store) -> None:
    _, first_left = await store.hit("fixed", window_seconds=1)
    await asyncio.sleep(0.3)
    count, left = await store.hit("fixed", window_seconds=1)
    # Hitting again does not push the reset further away.
    assert count == 2
    assert left <= first_left - 0.25


async def test_a_window_resets_when_it_expires(store: Store) -> None:
    await store.hit("resets", window_seconds=0.15)
    await store.hit("resets", window_seconds=0.15)
    await asyncio.sleep(0.25)
    assert await store.count("resets") == (0, 0.0)
    count, left = await store.hit("resets", window_seconds=0.15)
    assert count == 1
    assert 0 < left <= 0.15


async def test_count_reads_without_counting(store: Store) -> None:
    assert await store.count("counted") == (0, 0.0)
    await store.hit("counted", window_seconds=60)
    await store.hit("counted", window_seconds=60)
    count, left = await store.count("counted")
    assert count == 2
    assert 59 < left <= 60 + 1e-6
    assert (await store.count("counted"))[0] == 2


async def test_concurrent_hits_are_all_counted(store: Store) -> None:
    results = await asyncio.gather(*(store.hit("busy", window_seconds=60) for _ in range(50)))
    assert sorted(count for count, _ in results) == list(range(1, 51))


async def test_delete_resets_a_counter(store: Store) -> None:
    await store.hit("reset-me", window_seconds=60)
    await store.delete("reset-me")
    assert await store.count("reset-me") == (0, 0.0)


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
async def test_a_ttl_must_be_positive_and_finite(store: Store, ttl: float) -> None:
    with pytest.raises(ValueError, match="time to live"):
        await store.set("bad", b"x", ttl_seconds=ttl)
    with pytest.raises(ValueError, match="time to live"):
        await store.hit("bad", window_seconds=ttl)


async def test_ping_answers(store: Store) -> None:
    assert await store.ping() is True


async def test_redis_keys_carry_the_prefix() -> None:
    await require_redis()
    prefix = unique_prefix()
    store = RedisStore.from_url(TEST_REDIS_URL, prefix=prefix)
    client = Redis.from_url(TEST_REDIS_URL)
    try:
        await store.set("k", b"v", ttl_seconds=30)
        await store.hit("c", window_seconds=30)
        assert await client.get(f"{prefix}k") == b"v"
        assert await client.get(f"{prefix}c") == b"1"
        assert await client.get("k") is None
    finally:
        await store.close()
        await client.aclose()
        await delete_prefix(prefix)


async def test_an_unreachable_redis_is_reported_not_hung() -> None:
    # Nothing listens on port 9 (discard) on the loopback interface.
    store = RedisStore.from_url("redis://127.0.0.1:9/0", prefix=unique_prefix())
    try:
        assert await store.ping() is False
        with pytest.raises(StoreUnavailable):
            await store.get("anything")
        with pytest.raises(StoreUnavailable):
            await store.get_many(["anything", "else"])
        with pytest.raises(StoreUnavailable):
            await store.hit("anything", window_seconds=1)
        with pytest.raises(StoreUnavailable):
            await store.take("anything")
    finally:
        await store.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_uses_its_clock_for_expiry() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    await store.set("k", b"v", ttl_seconds=10)
    await store.hit("c", window_seconds=10)
    clock.now += 9.5
    assert await store.get("k") == b"v"
    assert await store.count("c") == (1, 0.5)
    clock.now += 0.5
    assert await store.get("k") is None
    assert await store.count("c") == (0, 0.0)


async def test_memory_store_stays_within_its_bound() -> None:
    clock = FakeClock()
    store = MemoryStore(max_entries=100, clock=clock)
    for n in range(50):
        await store.set(f"old{n}", b"x", ttl_seconds=1)
    clock.now += 2  # the first fifty have expired
    for n in range(1000):
        await store.set(f"new{n}", b"x", ttl_seconds=60)
        assert len(store) <= 100
    # The most recently written survive; the oldest were evicted.
    assert await store.get("new999") == b"x"
    assert await store.get("new0") is None
    assert await store.get("old0") is None


async def test_memory_store_evicts_expired_entries_before_live_ones() -> None:
    clock = FakeClock()
    store = MemoryStore(max_entries=10, clock=clock)
    await store.set("keeper", b"x", ttl_seconds=60)
    for n in range(9):
        await store.set(f"brief{n}", b"x", ttl_seconds=1)
    clock.now += 2
    await store.set("newcomer", b"x", ttl_seconds=60)
    assert await store.get("keeper") == b"x"
    assert await store.get("newcomer") == b"x"


def test_create_store_picks_the_backend() -> None:
    assert isinstance(create_store(None), MemoryStore)
    assert isinstance(create_store(""), MemoryStore)
    redis_store = create_store("redis://127.0.0.1:6379/0", prefix="p:")
    assert isinstance(redis_store, RedisStore)
    assert redis_store.prefix == "p:"


def test_blank_redis_url_means_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", " ")
    assert RedisSettings(_env_file=None).redis_url is None
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert RedisSettings(_env_file=None).redis_url == "redis://127.0.0.1:6379/3"


def test_the_application_store_is_a_dependency() -> None:
    app = FastAPI()

    @app.get("/count")
    async def count(store: StoreDep) -> dict[str, int]:
        hits, _ = await store.hit("visits", window_seconds=60)
        return {"hits": hits}

    with TestClient(app) as client:
        app.state.store = MemoryStore()
        assert client.get("/count").json() == {"hits": 1}
        assert client.get("/count").json() == {"hits": 2}


async def test_open_store_closes_the_store() -> None:
    async with open_store(RedisSettings(_env_file=None, redis_url=None)) as store:
        assert isinstance(store, MemoryStore)
        await store.set("k", b"v", ttl_seconds=30)
    assert len(store) == 0


async def test_take_returns_a_value_once(store: Store) -> None:
    assert await store.take("absent") is None
    await store.set("once", b"secret", ttl_seconds=30)
    assert await store.take("once") == b"secret"
    assert await store.take("once") is None
    assert await store.get("once") is None


async def test_take_ignores_expired_values(store: Store) -> None:
    await store.set("stale", b"x", ttl_seconds=0.1)
    await asyncio.sleep(0.2)
    assert await store.take("stale") is None


async def test_concurrent_takes_hand_a_value_to_exactly_one_caller(store: Store) -> None:
    await store.set("contested", b"prize", ttl_seconds=30)
    results = await asyncio.gather(*(store.take("contested") for _ in range(20)))
    assert results.count(b"prize") == 1
    assert results.count(None) == 19
