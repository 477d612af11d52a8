"""Login and password-reset throttling per (email, client address).

Counts live in the application's store: in the process by default, in Redis when `REDIS_URL`
is set, so every worker sees the same counts.
"""

from __future__ import annotations

import hashlib
import math

from shared.errors import ServiceUnavailable, TooManyRequests
from shared.stores import Store, StoreUnavailable


class Throttled(TooManyRequests):
    def __init__(self, retry_after_seconds: float) -> None:
        seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(
            "Too many attempts; try again later", headers={"Retry-After": str(seconds)}
        )


class ThrottleUnavailable(ServiceUnavailable):
    """The counts cannot be read: refuse rather than let guesses through unlimited."""

    def __init__(self) -> None:
        super().__init__(
            "Sign-in is temporarily unavailable; try again shortly", headers={"Retry-After": "5"}
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
        try:
            count, seconds_left = await self.store.count(key)
        except StoreUnavailable as exc:
            raise ThrottleUnavailable from exc
        if count >= self.max_attempts:
            raise Throttled(seconds_left)

    async def record(self, key: str) -> None:
        try:
            await self.store.hit(key, self.window_seconds)
        except StoreUnavailable as exc:
            raise ThrottleUnavailable from exc

    async def clear(self, key: str) -> None:
        try:
            await self.store.delete(key)
        except StoreUnavailable as exc:
            raise ThrottleUnavailable from exc
