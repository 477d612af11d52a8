"""The engine and the per-request session.

SQLite (the embedded default) gets foreign keys, WAL, a busy timeout, and write transactions
that queue for the process's write gate and take the write lock when they begin
(shared/sqlite_connections.py), so concurrent writers take turns instead of failing with
"database is locked" half-way through. PostgreSQL gets a pool with pre-ping, so connections
dropped by a database restart are replaced instead of failing a request, and a short connect
timeout, so an unreachable database fails fast (shared/errors.py turns that into a 503). On
both, a statement that runs past DB_STATEMENT_TIMEOUT_SECONDS is stopped (also a 503).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from shared.settings import DatabaseSettings, get_database_settings
from shared.sqlite_connections import configure_sqlite, sqlite_connect_args


def build_engine(settings: DatabaseSettings) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args=sqlite_connect_args(settings.sqlite_busy_timeout_seconds),
            # Bounded like PostgreSQL's pool, so exhaustion is a prompt 503, not a long wait.
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
        )
        configure_sqlite(
            engine,
            busy_timeout_seconds=settings.sqlite_busy_timeout_seconds,
            statement_timeout_seconds=settings.db_statement_timeout_seconds,
        )
        return engine
    return create_engine(
        url,
        # Errors and logs never show bound values (password hashes, tokens, emails).
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        connect_args={
            "connect_timeout": settings.db_connect_timeout_seconds,
            "options": postgres_options(url, settings),
        },
    )


def statement_timeout_ms(settings: DatabaseSettings) -> int:
    return max(1, round(settings.db_statement_timeout_seconds * 1000))


def postgres_options(url: str, settings: DatabaseSettings) -> str:
    """libpq's `options` with the statement timeout added to any the URL gives."""
    given = make_url(url).query.get("options", "")
    given = given if isinstance(given, str) else " ".join(given)
    return f"{given} -c statement_timeout={statement_timeout_ms(settings)}".strip()


@lru_cache
def get_engine() -> Engine:
    return build_engine(get_database_settings())


def get_session() -> Iterator[Session]:
    """One session per request, closed when the response is done.

    On SQLite its writes queue for the process's write gate when they begin, not when the
    request does (see shared/sqlite_connections.py).
    """
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
