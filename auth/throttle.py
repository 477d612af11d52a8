"""Login and password-reset throttling per (email, client address).

Counts live in the application's store: in the process by default, in Redis when `REDIS_URL`
is set, so every worker sees the same counts.
"""

from __future__ import annotations

import hashlib
import math

from shared.errors import TooManyRequests
from shared.stores import Store


class Throttled(TooManyRequests):
    def __init__(self, retry_after_seconds: float) -> None:
        seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(
            "Too many attempts; try again later", headers={"Retry-After": str(seconds)}
        )


def throttle_key(kind: str, email: str, address: str) -> str:
    # Hashed, so the store holds no email addresses.
    digest = hashlib.sha256(f"{email.strip().lower()}\0{address}".encode()).hexdigest()
    return f"throttle:{kind}:{digest}"


class Throttle:
    def __init__(self, store: Store, *, max_attempts: int, window_seconds: int) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds

    async def check(self, key: str) -> None:
        """Refuse (429 with Retry-After) while the key has used up its attempts."""
        count, seconds_left = await self.store.count(key)
        if count >= self.max_attempts:
            raise Throttled(seconds_left)

    async def record(self, key: str) -> None:
        await self.store.hit(key, self.window_seconds)

    async def clear(self, key: str) -> None:
        await self.store.delete(key)
