"""The SQLite reader: one connection used on the event loop, and a few more in worker threads.

An SQLite read is a few microseconds of CPU with no network wait, so a thread hop would cost
more than it saves (PERFORMANCE.md): point reads and pages run on the event loop. Each gets
`LOOP_BUDGET_SECONDS` there; one that runs longer is stopped and run again in a worker thread.
Statements whose cost no index bounds go to a worker thread first (shared/costly_reads.py), and
come back to the loop only once they have proved cheap. In the threads, a statement may run for
DB_STATEMENT_TIMEOUT_SECONDS. Every connection is autocommit (each SELECT reads the latest
committed state, WAL) and read-only.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.costly_reads import CostlyReads
from shared.errors import (
    DatabaseTimedOut,
    DatabaseUnavailable,
    is_statement_timeout,
    log_database_unavailable,
)
from shared.sqlite_connections import TimedConnection

Row = tuple[Any, ...]

# How long one statement may hold the event loop before it is moved to a worker thread.
LOOP_BUDGET_SECONDS = 0.1


def _timed_fetch(
    connection: TimedConnection, sql: str, params: tuple[Any, ...], budget_seconds: float
) -> tuple[list[Row], float]:
    """Rows, and the CPU time this thread spent on them (waits for the GIL do not count)."""
    connection.deadline = time.monotonic() + budget_seconds
    started = time.thread_time()
    rows = connection.execute(sql, params).fetchall()
    return rows, time.thread_time() - started


class SqliteReader:
    dialect = "sqlite"

    def __init__(
        self,
        path: str,
        busy_timeout_seconds: float,
        *,
        statement_timeout_seconds: float = 5.0,
        search_concurrency: int = 2,
    ) -> None:
        self.path = path
        self.busy_timeout_seconds = busy_timeout_seconds
        self.statement_timeout_seconds = statement_timeout_seconds
        self.connection = self._connect()
        self.costly = CostlyReads(
            concurrency=search_concurrency, wait_seconds=statement_timeout_seconds
        )
        self._threads = ThreadPoolExecutor(search_concurrency, thread_name_prefix="larder-read")
        self._thread_connections: list[TimedConnection] = []

    def _connect(self) -> TimedConnection:
        connection = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_seconds,
            isolation_level=None,
            check_same_thread=False,
            factory=TimedConnection,
        )
        connection.execute("PRAGMA query_only=ON")
        return connection

    async def fetch(self, sql: str, params: Any) -> list[Row]:
        rows = self._on_loop(sql, tuple(params))
        if rows is None:
            rows, _ = await self._in_thread(sql, tuple(params))
        return rows

    async def fetch_costly(self, sql: str, params: Any) -> list[Row]:
        key: Hashable = (sql, tuple(params))
        if self.costly.known_cheap(key):
            started = time.perf_counter()
            rows = self._on_loop(sql, tuple(params))
            if rows is not None:
                self.costly.note(key, time.perf_counter() - started)
                return rows
        rows, seconds = await self._in_thread(sql, tuple(params))
        self.costly.note(key, seconds)
        return rows

    def _on_loop(self, sql: str, params: tuple[Any, ...]) -> list[Row] | None:
        """The rows, or None when the statement ran past the loop's budget."""
        self.connection.deadline = time.monotonic() + LOOP_BUDGET_SECONDS
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if is_statement_timeout(exc):
                return None
            log_database_unavailable(exc)
            raise DatabaseUnavailable from exc

    async def _in_thread(self, sql: str, params: tuple[Any, ...]) -> tuple[list[Row], float]:
        async with self.costly.slot():
            idle = self._thread_connections
            connection = idle.pop() if idle else self._connect()
            done = asyncio.get_running_loop().run_in_executor(
                self._threads, _timed_fetch, connection, sql, params, self.statement_timeout_seconds
            )
            try:
                return await done
            except sqlite3.OperationalError as exc:
                if is_statement_timeout(exc):
                    raise DatabaseTimedOut from exc
                log_database_unavailable(exc)
                raise DatabaseUnavailable from exc
            finally:
                if done.done():
                    idle.append(connection)
                else:
                    # A cancelled request leaves its statement running: the connection is
                    # free again only when the statement ends.
                    done.add_done_callback(lambda _: idle.append(connection))

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        for connection in (self.connection, *self._thread_connections):
            connection.close()
