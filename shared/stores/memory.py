"""The in-process store: each worker process has its own."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.stores.base import StoreFull, check_ttl

DEFAULT_MAX_ENTRIES = 100_000
DEFAULT_MAX_COUNTERS = 100_000


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
    """Values and counters in dicts, expiring on a monotonic clock, each kind bounded.

    At most `max_entries` values: when full, expired values are swept out; if that frees too
    little, the least recently written live values go. Sweeping frees a tenth of the capacity at
    a time, so the cost of a full store is amortised rather than paid on every write.

    At most `max_counters` counters: when full, expired counters are swept out, and if every
    counter is still live a new one is refused with `StoreFull` (existing ones keep counting).
    A live counter is never evicted, so filling the store with junk cannot reset anyone's
    count. After a sweep that frees nothing, the next waits until the earliest counter expires,
    so a full store costs nothing per refused write.

    Methods never await, so each runs atomically on the event loop.
    """

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_counters: int = DEFAULT_MAX_COUNTERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_counters < 1:
            raise ValueError("max_entries and max_counters must be at least 1")
        self.max_entries = max_entries
        self.max_counters = max_counters
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._counters: dict[str, _Entry] = {}
        self._next_counter_sweep = -math.inf

    def __len__(self) -> int:
        return len(self._entries) + len(self._counters)

    @staticmethod
    def _live_in(table: dict[str, _Entry], key: str, now: float) -> _Entry | None:
        entry = table.get(key)
        if entry is None:
            return None
        if entry.expires_at <= now:
            del table[key]
            return None
        return entry

    def _live(self, key: str, now: float) -> _Entry | None:
        return self._live_in(self._entries, key, now) or self._live_in(self._counters, key, now)

    def _put(self, key: str, entry: _Entry) -> None:
        self._counters.pop(key, None)
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

    def _new_counter(self, key: str, entry: _Entry, now: float) -> None:
        if len(self._counters) >= self.max_counters:
            if now < self._next_counter_sweep:
                raise StoreFull("every counter is live")
            expired = [k for k, counter in self._counters.items() if counter.expires_at <= now]
            for expired_key in expired:
                del self._counters[expired_key]
            if len(self._counters) >= self.max_counters:
                self._next_counter_sweep = min(c.expires_at for c in self._counters.values())
                raise StoreFull("every counter is live")
        self._entries.pop(key, None)
        self._counters[key] = entry

    async def get(self, key: str) -> bytes | None:
        return _bytes_of(self._live(key, self._clock()))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        return [_bytes_of(self._live(key, now)) for key in keys]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        check_ttl(ttl_seconds)
        self._put(key, _Entry(bytes(value), self._clock() + ttl_seconds))

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)
        self._counters.pop(key, None)

    async def take(self, key: str) -> bytes | None:
        now = self._clock()
        entry = self._live(key, now)
        await self.delete(key)
        return _bytes_of(entry)

    async def hit(self, key: str, window_seconds: float) -> tuple[int, float]:
        check_ttl(window_seconds)
        now = self._clock()
        entry = self._live_in(self._counters, key, now)
        if entry is None:
            self._new_counter(key, _Entry(1, now + window_seconds), now)
            return 1, window_seconds
        entry.value = int(entry.value) + 1
        return entry.value, entry.expires_at - now

    async def count(self, key: str) -> tuple[int, float]:
        now = self._clock()
        entry = self._live_in(self._counters, key, now)
        if entry is None:
            return 0, 0.0
        return int(entry.value), entry.expires_at - now

    async def release(self, key: str) -> None:
        entry = self._live_in(self._counters, key, self._clock())
        if entry is not None and int(entry.value) > 0:
            entry.value = int(entry.value) - 1

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()
        self._counters.clear()
