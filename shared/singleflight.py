"""Single-flight: concurrent callers asking for the same key share one computation.

The computation runs in its own task, so a caller that gives up (its request was cancelled, or it
stopped waiting) neither cancels the work for the others nor leaves them waiting forever; the
result still lands wherever the computation puts it (a cache, typically).

The coordination is within one process (one event loop). Separate worker processes each run
their own computation for a key, so with a cache shared through Redis the upstream sees at most
one call per key per worker process, not one in all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._in_flight: dict[str, asyncio.Task[T]] = {}

    def in_flight(self, key: str) -> bool:
        return key in self._in_flight

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        """The result of `compute()`, or of the computation already running for `key`.

        Exceptions from the computation reach every caller that waited for it. A key is free
        again as soon as its computation ends, so the next caller starts a new one.
        """
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(_await(compute))
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        # shield: cancelling this caller must not cancel the shared computation.
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        # A computation nobody waited for to the end must not log "exception never retrieved".
        if not task.cancelled():
            task.exception()


async def _await(compute: Callable[[], Awaitable[T]]) -> T:
    return await compute()
