"""The PostgreSQL reader: a small pool of asynchronous connections driven through libpq.

See shared/reads.py for why the hot reads skip the ORM, and README's Performance section for why
the reader drives libpq's asynchronous interface itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable, Sequence
from contextlib import suppress
from typing import Any

import psycopg
import psycopg.errors
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.pq.abc import PGresult as PGresultType

from shared.costly_reads import CostlyReads
from shared.errors import (
    DatabaseRefusedValue,
    DatabaseTimedOut,
    DatabaseUnavailable,
    log_database_unavailable,
)

Row = tuple[Any, ...]
Params = Sequence[Any]


class PostgresReader:
    """A small pool of PostgreSQL connections in autocommit mode, awaited on the event loop.

    Awaiting the network keeps the event loop serving other requests while PostgreSQL works, so
    a slow query stalls only its own request. Each connection prepares every statement on first
    use, so the hot SELECTs are parsed and planned once per connection, and results come back
    in binary, which psycopg's C loaders decode.
    """

    dialect = "postgresql"

    def __init__(
        self,
        conninfo: str,
        size: int,
        timeout_seconds: float,
        connect_timeout_seconds: float,
        *,
        statement_timeout_seconds: float = 5.0,
        search_concurrency: int = 2,
    ) -> None:
        self.conninfo = conninfo
        self.timeout_seconds = timeout_seconds
        self.connect_timeout_seconds = connect_timeout_seconds
        self.statement_timeout_ms = max(1, round(statement_timeout_seconds * 1000))
        self._slots = asyncio.Semaphore(size)
        self._idle: list[PostgresConnection] = []
        # Fewer than the pool's connections, so costly statements leave some to point reads.
        self.costly = CostlyReads(
            concurrency=max(1, min(search_concurrency, size - 1)),
            wait_seconds=statement_timeout_seconds,
        )

    async def fetch(self, sql: str, params: Params) -> list[Row]:
        """Rows of one SELECT. An unreachable database or a full pool that frees no connection
        within the pool timeout is a DatabaseUnavailable (503); a value PostgreSQL cannot hold
        (a NUL byte in text, a number out of range) is a 422."""
        try:
            return await self._fetch(sql, params)
        except psycopg.errors.QueryCanceled as exc:  # ran past statement_timeout
            raise DatabaseTimedOut from exc
        except (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError) as exc:
            log_database_unavailable(exc)
            raise DatabaseUnavailable from exc
        except psycopg.DataError as exc:
            raise DatabaseRefusedValue from exc

    async def fetch_costly(self, sql: str, params: Params) -> list[Row]:
        key: Hashable = (sql, tuple(params))
        if self.costly.known_cheap(key):
            started = time.perf_counter()
            rows = await self.fetch(sql, params)
        else:
            async with self.costly.slot():
                started = time.perf_counter()
                rows = await self.fetch(sql, params)
        self.costly.note(key, time.perf_counter() - started)
        return rows

    async def _fetch(self, sql: str, params: Params) -> list[Row]:
        if self._slots.locked():
            async with asyncio.timeout(self.timeout_seconds):
                await self._slots.acquire()
        else:
            await self._slots.acquire()  # a free slot: returns at once, no timer needed
        try:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                rows = await connection.fetch(sql, params)
            except psycopg.DatabaseError:
                # The server refused the statement and is ready for the next: keep the
                # connection. Anything else may leave it broken or mid-query.
                if not connection.is_ready():
                    await connection.close()
                else:
                    self._idle.append(connection)
                raise
            except BaseException:
                await connection.close()
                raise
            self._idle.append(connection)
            return rows
        finally:
            self._slots.release()

    async def _connect(self) -> PostgresConnection:
        connection = await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=max(1, int(self.connect_timeout_seconds)),
        )
        # PostgreSQL plans a prepared statement afresh on each run while it judges a plan made
        # for the values better than the generic one, which for a LIKE pattern is always:
        # 0.5-1.5 ms of planning on every search, ten times its execution. The generic plans
        # of these statements are the ones wanted (tests check the search plans use the
        # trigram index), so they are made once per connection.
        await connection.execute("SET plan_cache_mode TO force_generic_plan")
        # No statement may hold a connection longer than DB_STATEMENT_TIMEOUT_SECONDS.
        await connection.execute(f"SET statement_timeout = {self.statement_timeout_ms}")
        return PostgresConnection(connection)


def _numbered(sql: str) -> bytes:
    """psycopg's `%s` placeholders as PostgreSQL's own `$1`, `$2`, ..."""
    parts = sql.split("%s")
    numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))
    return numbered.encode()


class PostgresConnection:
    """One connection of the PostgresReader, driven through libpq's asynchronous interface.

    psycopg's `AsyncCursor.execute` costs about 90 µs of CPU per query on these machines, more
    than twice its blocking `execute`: it steps a generator through waits that each register
    with the event loop. A prepared SELECT needs only one send and one wait for the answer, so
    this class sends it with `psycopg.pq` and waits once on the socket; psycopg's Transformer
    still turns the binary result into Python values, with the same loaders as a cursor.
    Parameters go as text and PostgreSQL types them from the prepared statement.
    """

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn
        self.pgconn.nonblocking = 1
        self.encoding = connection.info.encoding
        self.transformer = Transformer(connection)
        self.prepared: dict[str, bytes] = {}
        # The socket stays registered with the event loop for the connection's life: adding and
        # removing it around every wait would be two more system calls per query.
        self._loop = asyncio.get_running_loop()
        self._socket = self.pgconn.socket
        self._waiter: asyncio.Future[None] | None = None
        self._loop.add_reader(self._socket, self._readable)

    def _readable(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(None)
            return
        # Nothing waits: the server spoke unasked (a notice, or closing the connection). Read
        # it now, or the loop would call again at once; a closed connection is unregistered.
        try:
            self.pgconn.consume_input()
        except psycopg.OperationalError:
            self._loop.remove_reader(self._socket)

    def is_ready(self) -> bool:
        """Connected and between statements."""
        return (
            self.pgconn.status == pq.ConnStatus.OK
            and self.pgconn.transaction_status == pq.TransactionStatus.IDLE
        )

    async def fetch(self, sql: str, params: Params) -> list[Row]:
        name = self.prepared.get(sql)
        if name is None:
            name = f"larder_{len(self.prepared)}".encode()
            self.pgconn.send_prepare(name, _numbered(sql))
            await self._result(pq.ExecStatus.COMMAND_OK)
            self.prepared[sql] = name
        self.pgconn.send_query_prepared(
            name, [self._text(value) for value in params], result_format=pq.Format.BINARY
        )
        result = await self._result(pq.ExecStatus.TUPLES_OK)
        self.transformer.set_pgresult(result)
        return self.transformer.load_rows(0, result.ntuples, tuple)

    def _text(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"unsupported parameter type {type(value).__name__}")
        text = str(value)
        if "\x00" in text:
            # libpq would cut a text parameter at the NUL without a word.
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return text.encode(self.encoding)

    async def _result(self, expected: pq.ExecStatus) -> PGresultType:
        """Sends what is queued, then reads every result of the statement; the last is its
        answer. A server error is raised as psycopg's exception for its SQLSTATE."""
        loop = self._loop
        while self.pgconn.flush():
            await _writable(loop, self._socket)
        last: PGresultType | None = None
        while True:
            while self.pgconn.is_busy():
                self._waiter = loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
                self.pgconn.consume_input()
            result = self.pgconn.get_result()
            if result is None:
                break
            last = result
        if last is None:
            raise psycopg.InterfaceError("the server sent no result")
        if last.status != expected:
            raise psycopg.errors.error_from_result(last, encoding=self.encoding)
        return last

    async def close(self) -> None:
        with suppress(Exception):
            self._loop.remove_reader(self._socket)
        with suppress(Exception):
            await self.connection.close()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    """Waits until a socket can take more (only when a query is larger than its buffer)."""
    waiter = loop.create_future()
    loop.add_writer(fd, _wake, waiter)
    try:
        await waiter
    finally:
        loop.remove_writer(fd)
