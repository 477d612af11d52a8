"""Small key-value stores with expiry, for rate limits and caches.

Two backends behind one async `Store` protocol:

- `MemoryStore` (the default) keeps entries in the process. Each worker process has its own, so
  with several workers a limit of N becomes N per worker and every worker warms its own cache.
- `RedisStore` (when `REDIS_URL` is set) keeps them in Redis, shared by every process.

The application opens one store in its lifespan (`open_store`) and routes get it with
`StoreDep`. Backend failures (Redis down, timeouts) surface as `StoreUnavailable`, so each caller
chooses whether to fail open (a cache) or closed (a security limit).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Protocol, cast

from fastapi import Depends, FastAPI, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.settings import RedisSettings

DEFAULT_PREFIX = "larder:"
DEFAULT_MAX_ENTRIES = 100_000
# A Redis that does not answer within this long counts as unavailable; callers must not hang.
REDIS_SOCKET_TIMEOUT_SECONDS = 2.0


class StoreUnavailable(Exception):
    """The store's backend could not be reached or answered with an error."""


class Store(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values of several keys, in order (None where absent), in one round trip."""
        ...

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def take(self, key: str) -> bytes | None:
        """Read and delete a value in one step: of two callers taking one key, one gets it.

        For single-use values (sign-in state): a get followed by a delete would let two
        concurrent requests both read the value before either deletes it.
        """
        ...

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        """Count one hit in a fixed window that starts at the key's first hit.

        Returns the count after this hit and the seconds until the window resets.
        """
        ...

    async def count(self, key: str) -> tuple[int, float]:
        """The current count and seconds left, without counting; (0, 0.0) when absent."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def _check_ttl(seconds: float) -> None:
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"a time to live must be a positive, finite number of seconds: {seconds}")


@dataclass(slots=True)
class _Entry:
    value: bytes | int
    expires_at: float


def _bytes_of(entry: _Entry | None) -> bytes | None:
    if entry is None:
        return None
    value = entry.value
    return str(value).encode() if isinstance(value, int) else value


class MemoryStore:
    """Entries in a dict, expiring on a monotonic clock, at most `max_entries` of them.

    When full, expired entries are swept out; if that frees too little, the least recently
    written live entries go. Sweeping frees a tenth of the capacity at a time, so the cost of a
    full store is amortised rather than paid on every write. Methods never await, so each runs
    atomically on the event loop.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            del self._entries[key]
            return None
        return entry

    def _put(self, key: str, entry: _Entry) -> None:
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._make_room()
        self._entries[key] = entry
        self._entries.move_to_end(key)

    def _make_room(self) -> None:
        now = self._clock()
        for key in [k for k, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[key]
        target = self.max_entries - max(1, self.max_entries // 10)
        while len(self._entries) > target:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        return _bytes_of(self._live(key, self._clock()))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        return [_bytes_of(self._live(key, now)) for key in keys]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        _check_ttl(ttl_seconds)
        self._put(key, _Entry(bytes(value), self._clock() + ttl_seconds))

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def take(self, key: str) -> bytes | None:
        entry = self._live(key, self._clock())
        if entry is not None:
            del self._entries[key]
        return _bytes_of(entry)

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        _check_ttl(window_seconds)
        now = self._clock()
        entry = self._live(key, now)
        if entry is None:
            self._put(key, _Entry(1, now + window_seconds))
            return 1, window_seconds
        entry.value = int(entry.value) + 1
        return entry.value, entry.expires_at - now

    async def count(self, key: str) -> tuple[int, float]:
        now = self._clock()
        entry = self._live(key, now)
        if entry is None:
            return 0, 0.0
        return int(entry.value), entry.expires_at - now

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()


# INCR, then start the window on the first hit. The PTTL check also repairs a counter that lost
# its expiry (it would otherwise never reset). One script, so the three steps are atomic.
_HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""

_COUNT_SCRIPT = """
local value = redis.call('GET', KEYS[1])
if not value then return {0, 0} end
return {tonumber(value) or 0, redis.call('PTTL', KEYS[1])}
"""


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisStore:
    """The store in Redis, every key under `prefix`."""

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = client
        self.prefix = prefix
        self._hit = client.register_script(_HIT_SCRIPT)
        self._count = client.register_script(_COUNT_SCRIPT)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisStore:
        client = Redis.from_url(
            url,
            socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
        return cls(client, prefix=prefix)

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._key(key))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            values = await self._redis.mget([self._key(key) for key in keys])
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return [
            None if value is None else value.encode() if isinstance(value, str) else bytes(value)
            for value in values
        ]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        _check_ttl(ttl_seconds)
        try:
            await self._redis.set(self._key(key), value, px=_milliseconds(ttl_seconds))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._key(key))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def take(self, key: str) -> bytes | None:
        try:
            # GETDEL (Redis 6.2+) reads and deletes atomically on the server.
            value = await self._redis.getdel(self._key(key))
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        _check_ttl(window_seconds)
        try:
            count, ttl_ms = await self._hit(
                keys=[self._key(key)], args=[_milliseconds(window_seconds)]
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return int(count), int(ttl_ms) / 1000

    async def count(self, key: str) -> tuple[int, float]:
        try:
            count, ttl_ms = await self._count(keys=[self._key(key)])
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc
        return int(count), max(0, int(ttl_ms)) / 1000

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()


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
