"""The store in Redis, shared by every process."""

from __future__ import annotations

import math
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.stores.base import StoreUnavailable, check_ttl

DEFAULT_PREFIX = "larder:"
# A Redis that does not answer within this long counts as unavailable; callers must not hang.
REDIS_SOCKET_TIMEOUT_SECONDS = 2.0


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

# DECR keeps the key's expiry; a missing or zero counter is left alone.
_RELEASE_SCRIPT = """
local value = tonumber(redis.call('GET', KEYS[1]))
if value and value > 0 then redis.call('DECR', KEYS[1]) end
return 0
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
        self._release = client.register_script(_RELEASE_SCRIPT)

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
        check_ttl(ttl_seconds)
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
        check_ttl(window_seconds)
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

    async def release(self, key: str) -> None:
        try:
            await self._release(keys=[self._key(key)])
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()
