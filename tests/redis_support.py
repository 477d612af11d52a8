"""Helpers for tests that need the real Redis at TEST_REDIS_URL.

Each test uses its own key prefix and deletes its keys afterwards (never FLUSHDB), so test runs
sharing the Redis never collide. Without a reachable Redis these tests are skipped on a
developer's machine and fail in CI (where `.ci/run` starts Redis).
"""

from __future__ import annotations

import os
import uuid

import pytest
from redis.asyncio import Redis

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_available() -> bool:
    client = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def require_redis() -> None:
    if not await redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {TEST_REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {TEST_REDIS_URL}")


async def delete_prefix(prefix: str) -> None:
    client = Redis.from_url(TEST_REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def unique_prefix() -> str:
    return f"larder-test:{uuid.uuid4().hex}:"
