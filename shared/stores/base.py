"""The store protocol and its errors, shared by both backends."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol


class StoreUnavailable(Exception):
    """The store's backend could not be reached or answered with an error."""


class StoreFull(StoreUnavailable):
    """No room for a new counter: every counter the store may hold is live.

    A StoreUnavailable, so limits built on counters fail closed: refusing a new counter is
    safe, while evicting a live one would reset somebody's count.
    """


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

    async def release(self, key: str) -> None:
        """Take back one hit of the current window (never below zero, window unchanged);
        nothing when the key is absent. For a hit that reserved an attempt which then did not
        count."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


def check_ttl(seconds: float) -> None:
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"a time to live must be a positive, finite number of seconds: {seconds}")
