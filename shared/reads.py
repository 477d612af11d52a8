"""Driver-level readers for the hot read routes.

The ORM session costs more per request than the SQL it runs (see PERFORMANCE.md): a threadpool
hop for the sync dependency, pool checkout with a pre-ping, building and validating objects. The
busiest public routes instead run one hand-written SELECT through a `Reader` from an `async def`
route and encode the rows themselves.

The routes get their reader from `reader_for(request)`. In production it is the process's own
reader: one SQLite connection used on the event loop, or a small pool of asynchronous psycopg
connections. When `get_session` is overridden (the tests do, to run each test in a rolled-back
transaction), it reads through the overriding session's connection instead, so the routes see
that transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Generator, Sequence
from contextlib import suppress
from typing import Any, Protocol

import psycopg
import psycopg.errors
from fastapi import Request
from psycopg import pq
from psycopg.adapt import Transformer
from psycopg.pq.abc import PGresult as PGresultType
from sqlalchemy.engine import make_url
from sqlmodel import Session

from shared.database import get_session
from shared.errors import DatabaseRefusedValue, DatabaseUnavailable, log_database_unavailable
from shared.settings import get_database_settings

Row = tuple[Any, ...]
Params = Sequence[Any]


class Reader(Protocol):
    # "sqlite" or "postgresql": which SQL text and parameter style to use.
    dialect: str

    async def fetch(self, sql: str, params: Params) -> list[Row]: ...


class SessionReader:
    """Reads through a Session's connection, inside whatever transaction it has open."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def fetch_sync(self, sql: str, params: Params) -> list[Row]:
        result = self.session.connection().exec_driver_sql(sql, tuple(params))
        return [tuple(row) for row in result]

    async def fetch(self, sql: str, params: Params) -> list[Row]:
        return self.fetch_sync(sql, params)


class SqliteReader:
    """One connection per process, used on the event loop.

    An SQLite read is a few microseconds of CPU with no network wait, so a thread hop would cost
    more than it saves. Autocommit: every SELECT reads the latest committed state (WAL).
    """

    dialect = "sqlite"

    def __init__(self, path: str, busy_timeout_seconds: float) -> None:
        self.connection = sqlite3.connect(
            path, timeout=busy_timeout_seconds, isolation_level=None, check_same_thread=False
        )
        self.connection.execute("PRAGMA query_only=ON")

    async def fetch(self, sql: str, params: Params) -> list[Row]:
        try:
            return self.connection.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError as exc:
            log_database_unavailable(exc)
            raise DatabaseUnavailable from exc

    def close(self) -> None:
        self.connection.close()


class PostgresReader:
    """A small pool of PostgreSQL connections in autocommit mode, awaited on the event loop.

    Awaiting the network keeps the event loop serving other requests while PostgreSQL works, so
    a slow query stalls only its own request. Each connection prepares every statement on first
    use, so the hot SELECTs are parsed and planned once per connection, and results come back
    in binary, which psycopg's C loaders decode.
    """

    dialect = "postgresql"

    def __init__(
        self, conninfo: str, size: int, timeout_seconds: float, connect_timeout_seconds: float
    ) -> None:
        self.conninfo = conninfo
        self.timeout_seconds = timeout_seconds
        self.connect_timeout_seconds = connect_timeout_seconds
        self._slots = asyncio.Semaphore(size)
        self._idle: list[PostgresConnection] = []

    async def fetch(self, sql: str, params: Params) -> list[Row]:
        """Rows of one SELECT. An unreachable database or a full pool that frees no connection
        within the pool timeout is a DatabaseUnavailable (503); a value PostgreSQL cannot hold
        (a NUL byte in text, a number out of range) is a 422."""
        try:
            return await self._fetch(sql, params)
        except (psycopg.OperationalError, psycopg.InterfaceError, TimeoutError) as exc:
            log_database_unavailable(exc)
            raise DatabaseUnavailable from exc
        except psycopg.DataError as exc:
            raise DatabaseRefusedValue from exc

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


_process_reader: Reader | None = None
_reader_loop: asyncio.AbstractEventLoop | None = None


def process_reader() -> Reader:
    """This process's reader, made on first use (after any fork, so never shared).

    Asynchronous connections belong to the event loop that made them, so a new loop (each
    TestClient runs its own) gets a new reader; a server runs one loop and keeps one.
    """
    global _process_reader, _reader_loop
    loop = asyncio.get_running_loop()
    if _process_reader is None or _reader_loop is not loop:
        _process_reader, _reader_loop = _make_reader(), loop
    return _process_reader


def _make_reader() -> Reader:
    settings = get_database_settings()
    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise RuntimeError("the fast read path needs an SQLite file, not :memory:")
        return SqliteReader(url.database, settings.sqlite_busy_timeout_seconds)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresReader(
        conninfo,
        size=settings.db_pool_size,
        timeout_seconds=settings.db_pool_timeout,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
    )


def reader_for(request: Request) -> Reader:
    """This process's reader, or one over the session that overrides get_session.

    Called by the routes themselves rather than declared as a dependency: FastAPI's solving of
    a sub-dependency (and, for a yield dependency, its cancel scope and exit stack) costs more
    than the read on a get by id. An overriding generator is kept on the request and finishes
    when the request is released; the tests' override has no teardown.
    """
    override = request.app.dependency_overrides.get(get_session)
    if override is None:
        return process_reader()
    produced = override()
    if isinstance(produced, Generator):
        request.state.session_override = produced
        return SessionReader(next(produced))
    return SessionReader(produced)
