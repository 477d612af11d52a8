"""Fixtures for the shared kernel's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.stores import MemoryStore, RedisStore, Store
from tests.redis_support import TEST_REDIS_URL, delete_prefix, require_redis, unique_prefix


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        memory = MemoryStore()
        yield memory
        await memory.close()
        return
    await require_redis()
    prefix = unique_prefix()
    redis_store = RedisStore.from_url(TEST_REDIS_URL, prefix=prefix)
    yield redis_store
    await redis_store.close()
    await delete_prefix(prefix)
