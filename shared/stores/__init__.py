"""Small key-value stores with expiry, for rate limits and caches.

Two backends behind one async `Store` protocol:

- `MemoryStore` (the default) keeps entries in the process. Each worker process has its own, so
  with several workers a limit of N becomes N per worker and every worker warms its own cache.
- `RedisStore` (when `REDIS_URL` is set) keeps them in Redis, shared by every process.

The application opens one store in its lifespan (`open_store`) and routes get it with
`StoreDep`. Backend failures (Redis down, timeouts) surface as `StoreUnavailable`, so each caller
chooses whether to fail open (a cache) or closed (a security limit).

Counters (`hit`) are what security limits are made of, so the in-process store never evicts a
live one to make room: values (caches, sign-in state) and counters have separate capacities;
values make room by evicting, counters by refusing new keys (`StoreFull`) until some expire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request

from shared.settings import RedisSettings
from shared.stores.base import Store, StoreFull, StoreUnavailable
from shared.stores.memory import MemoryStore
from shared.stores.redis_store import DEFAULT_PREFIX, RedisStore

__all__ = [
    "MemoryStore",
    "RedisStore",
    "Store",
    "StoreDep",
    "StoreFull",
    "StoreUnavailable",
    "create_store",
    "get_store",
    "open_store",
]


def create_store(redis_url: str | None, *, prefix: str = DEFAULT_PREFIX) -> Store:
    """Redis when a URL is given, else the in-process store."""
    if redis_url:
        return RedisStore.from_url(redis_url, prefix=prefix)
    return MemoryStore()


@asynccontextmanager
async def open_store(settings: RedisSettings) -> AsyncIterator[Store]:
    """The application's store for the length of its lifespan."""
    store = create_store(settings.redis_url, prefix=settings.redis_key_prefix)
    try:
        yield store
    finally:
        await store.close()


async def get_store(request: Request) -> Store:
    """The store the application opened at start-up (async: no threadpool hop per request)."""
    app = cast(FastAPI, request.app)
    return cast(Store, app.state.store)


StoreDep = Annotated[Store, Depends(get_store)]
