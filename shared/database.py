"""The engine and the per-request session.

SQLite (the embedded default) gets foreign keys, WAL, a busy timeout and write transactions that
take the write lock when they begin, so concurrent writers queue instead of failing with
"database is locked" half-way through. PostgreSQL gets a pool with pre-ping, so connections
dropped by a database restart are replaced instead of failing a request, and a short connect
timeout, so an unreachable database fails fast (shared/errors.py turns that into a 503).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from shared.settings import DatabaseSettings, get_database_settings

# Execution option that makes an SQLite transaction start with BEGIN IMMEDIATE.
SQLITE_IMMEDIATE = "larder_sqlite_immediate"


def build_engine(settings: DatabaseSettings) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={
                "check_same_thread": False,
                "timeout": settings.sqlite_busy_timeout_seconds,
            },
            # Bounded like PostgreSQL's pool, so exhaustion is a prompt 503, not a long wait.
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
        )
        _configure_sqlite(engine, settings)
        return engine
    return create_engine(
        url,
        # Errors and logs never show bound values (password hashes, tokens, emails).
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        connect_args={"connect_timeout": settings.db_connect_timeout_seconds},
    )


def _configure_sqlite(engine: Engine, settings: DatabaseSettings) -> None:
    busy_ms = int(settings.sqlite_busy_timeout_seconds * 1000)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@lru_cache
def get_engine() -> Engine:
    return build_engine(get_database_settings())


@lru_cache
def get_write_engine() -> Engine:
    """The same pool, but on SQLite every transaction begins with BEGIN IMMEDIATE."""
    return get_engine().execution_options(**{SQLITE_IMMEDIATE: True})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, closed when the response is done.

    Requests that may write (POST, PUT, PATCH, DELETE) begin their transactions as writes, so
    on SQLite they queue for the write lock up front instead of failing half-way when another
    writer got there between their read and their write.
    """
    engine = get_engine() if request.method in SAFE_METHODS else get_write_engine()
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
