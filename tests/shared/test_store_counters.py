"""Counters that security limits rely on: taking back a reserved hit, and a full in-process
store that refuses new counters rather than evicting live ones."""

from __future__ import annotations

import pytest

from shared.stores import MemoryStore, Store, StoreFull, StoreUnavailable
from tests.shared.test_stores import FakeClock

pytestmark = pytest.mark.anyio


async def test_release_takes_back_one_hit_and_keeps_the_window(store: Store) -> None:
    for _ in range(3):
        await store.hit("attempts", window_seconds=60)
    await store.release("attempts")
    count, left = await store.count("attempts")
    assert count == 2
    assert 55 < left <= 60
    count, left_after = await store.hit("attempts", window_seconds=60)
    assert count == 3
    assert left_after <= left


async def test_release_never_goes_below_zero_nor_creates_a_counter(store: Store) -> None:
    await store.release("never-hit")
    assert await store.count("never-hit") == (0, 0.0)
    assert await store.get("never-hit") is None
    await store.hit("once", window_seconds=60)
    await store.release("once")
    await store.release("once")
    assert (await store.count("once"))[0] == 0
    assert (await store.hit("once", window_seconds=60))[0] == 1


async def test_values_never_evict_a_live_counter() -> None:
    """Junk values (sign-in states, cache entries) fill the values' capacity, not the
    counters': someone's failure count survives any number of them."""
    store = MemoryStore(max_entries=10, max_counters=10)
    for _ in range(3):
        await store.hit("victim", window_seconds=900)
    for n in range(1000):
        await store.set(f"junk{n}", b"x", ttl_seconds=600)
    assert (await store.count("victim"))[0] == 3
    assert await store.get("junk999") == b"x"


async def test_a_full_store_refuses_new_counters_and_keeps_counting_old_ones() -> None:
    clock = FakeClock()
    store = MemoryStore(max_counters=10, clock=clock)
    await store.hit("victim", window_seconds=900)
    for n in range(9):
        await store.hit(f"junk{n}", window_seconds=60)

    with pytest.raises(StoreFull):
        await store.hit("newcomer", window_seconds=60)
    # A StoreUnavailable: limits built on counters fail closed.
    assert issubclass(StoreFull, StoreUnavailable)
    with pytest.raises(StoreFull):
        await store.hit("another", window_seconds=60)
    assert await store.hit("victim", window_seconds=900) == (2, 900.0)

    clock.now += 61  # the junk counters expire; the victim's does not
    assert (await store.hit("newcomer", window_seconds=60))[0] == 1
    assert (await store.count("victim"))[0] == 2


async def test_a_value_and_a_counter_share_one_key_space() -> None:
    store = MemoryStore()
    await store.hit("key", window_seconds=60)
    await store.set("key", b"value", ttl_seconds=60)
    assert await store.get("key") == b"value"
    assert await store.count("key") == (0, 0.0)
    await store.hit("key", window_seconds=60)
    assert await store.get("key") == b"1"
    await store.delete("key")
    assert await store.get("key") is None
    assert len(store) == 0
