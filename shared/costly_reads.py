"""Where the readers run statements whose cost no index bounds (a search's index lookup).

A keyword can make such a statement read a large part of the table (on SQLite, inside one step
of FTS5 that nothing can interrupt). So a statement not known to be cheap waits for one of a few
slots (SEARCH_CONCURRENCY per process): on SQLite it then runs in a worker thread, off the event
loop; on PostgreSQL it holds one of the reader's connections, so costly statements can never
take every connection from the point reads. A statement that ran cheaply (under
`CHEAP_SECONDS`) runs the ordinary way for the next minute, so a keyword searched again and
again costs no slot and no thread hop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from shared.errors import DatabaseTimedOut
from shared.timed_set import TimedSet

# A statement that took less than this (CPU time on SQLite, wall time on PostgreSQL) is cheap.
CHEAP_SECONDS = 0.002


class CostlyReads:
    def __init__(self, *, concurrency: int, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._cheap = TimedSet()

    def known_cheap(self, key: Hashable) -> bool:
        return self._cheap.remembers(key)

    def note(self, key: Hashable, seconds: float) -> None:
        if seconds < CHEAP_SECONDS:
            self._cheap.remember(key)
        else:
            self._cheap.forget(key)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One of the slots, waiting at most `wait_seconds` (then DatabaseTimedOut)."""
        try:
            async with asyncio.timeout(self.wait_seconds):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise DatabaseTimedOut from exc
        try:
            yield
        finally:
            self._slots.release()
