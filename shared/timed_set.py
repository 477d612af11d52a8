"""A bounded set whose members are forgotten after a while."""

from __future__ import annotations

import time
from collections.abc import Hashable


class TimedSet:
    """Remembers keys for `ttl_seconds`. Bounded: when full, it starts afresh, which only
    costs the work that remembering a key saves."""

    def __init__(self, *, ttl_seconds: float = 60.0, max_entries: int = 4096) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._until: dict[Hashable, float] = {}

    def remembers(self, key: Hashable) -> bool:
        until = self._until.get(key)
        return until is not None and until > time.monotonic()

    def remember(self, key: Hashable) -> None:
        if len(self._until) >= self.max_entries:
            self._until.clear()
        self._until[key] = time.monotonic() + self.ttl_seconds

    def forget(self, key: Hashable) -> None:
        self._until.pop(key, None)
