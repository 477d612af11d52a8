"""Driver-level readers for the hot read routes.

The ORM session costs more per request than the SQL it runs (see PERFORMANCE.md): a threadpool
hop for the sync dependency, pool checkout with a pre-ping, building and validating objects. The
busiest public routes instead run one hand-written SELECT through a `Reader` from an `async def`
route and encode the rows themselves.

The routes get their reader from `reader_for(request)`. In production it is the process's own
reader: SQLite connections used on the event loop (shared/sqlite_reads.py), or a small pool of
asynchronous psycopg connections. Statements whose cost no index bounds go through
`fetch_costly` (shared/costly_reads.py), so that they can stall neither the event loop nor the
other reads. When `get_session` is overridden (the tests do, to run each test in a rolled-back
transaction), it reads through the overriding session's connection instead, so the routes see
that transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from typing import Any, Protocol

from fastapi import Request
from sqlalchemy.engine import make_url
from sqlmodel import Session

from shared.database import get_session
from shared.postgres_reads import PostgresReader as PostgresReader
from shared.settings import get_database_settings
from shared.sqlite_reads import Row as Row
from shared.sqlite_reads import SqliteReader as SqliteReader

Params = Sequence[Any]


class Reader(Protocol):
    # "sqlite" or "postgresql": which SQL text and parameter style to use.
    dialect: str

    async def fetch(self, sql: str, params: Params) -> list[Row]: ...

    async def fetch_costly(self, sql: str, params: Params) -> list[Row]:
        """The same, for a statement whose cost no index bounds."""
        ...


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

    async def fetch_costly(self, sql: str, params: Params) -> list[Row]:
        return self.fetch_sync(sql, params)


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
        return SqliteReader(
            url.database,
            settings.sqlite_busy_timeout_seconds,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
            search_concurrency=settings.search_concurrency,
        )
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresReader(
        conninfo,
        size=settings.db_pool_size,
        timeout_seconds=settings.db_pool_timeout,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        statement_timeout_seconds=settings.db_statement_timeout_seconds,
        search_concurrency=settings.search_concurrency,
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
