"""Every statement has a time budget (DB_STATEMENT_TIMEOUT_SECONDS) on both databases, and a
statement that runs past it is a 503 with Retry-After, never a hung request or a 500."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shared.database import build_engine
from shared.errors import DatabaseTimedOut, database_unavailable_handler, is_statement_timeout
from shared.reads import PostgresReader, SqliteReader
from shared.settings import DatabaseSettings

BUDGET_SECONDS = 0.3
# Well past the budget, and quick to give up on when the budget fails.
SLOW_SECONDS = 5.0
# An SQLite statement that counts for about a second, and one that never ends.
SQLITE_SLOW_COUNT = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000)"
    " SELECT count(*) FROM c"
)
SQLITE_ENDLESS = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
)


def slow_statement(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return SQLITE_ENDLESS
    return f"SELECT pg_sleep({SLOW_SECONDS})"


def test_an_orm_statement_past_its_budget_is_stopped_and_answered_503(engine: Engine) -> None:
    settings = DatabaseSettings(
        database_url=os.environ["DATABASE_URL"], db_statement_timeout_seconds=BUDGET_SECONDS
    )
    timed = build_engine(settings)
    try:
        with timed.connect() as connection:
            started = time.monotonic()
            with pytest.raises(OperationalError) as raised:
                connection.execute(text(slow_statement(engine)))
            assert time.monotonic() - started < SLOW_SECONDS / 2
            connection.rollback()
            assert connection.execute(text("SELECT 1")).scalar() == 1  # still usable
    finally:
        timed.dispose()

    assert is_statement_timeout(raised.value)
    response = asyncio.run(database_unavailable_handler(Any, raised.value))  # type: ignore[arg-type]
    assert response.status_code == 503
    assert response.body == b'{"detail":"The database took too long to answer"}'
    assert int(response.headers["retry-after"]) > 0


def _sqlite_path(engine: Engine) -> str:
    if engine.dialect.name != "sqlite":
        pytest.skip("the SQLite reader")
    return str(engine.url.database)


def test_an_sqlite_read_past_the_loop_budget_finishes_in_a_thread(engine: Engine) -> None:
    reader = SqliteReader(_sqlite_path(engine), 5.0, statement_timeout_seconds=SLOW_SECONDS)
    try:
        assert asyncio.run(reader.fetch(SQLITE_SLOW_COUNT, ())) == [(3_000_000,)]
    finally:
        reader.close()


def test_an_sqlite_read_past_the_statement_budget_is_a_timeout(engine: Engine) -> None:
    reader = SqliteReader(_sqlite_path(engine), 5.0, statement_timeout_seconds=BUDGET_SECONDS)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseTimedOut):
            asyncio.run(reader.fetch_costly(SQLITE_ENDLESS, ()))
        assert time.monotonic() - started < SLOW_SECONDS / 2
    finally:
        reader.close()


def test_a_postgresql_read_past_the_statement_budget_is_a_timeout(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL reader")
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    reader = PostgresReader(
        url.render_as_string(hide_password=False),
        size=2,
        timeout_seconds=5,
        connect_timeout_seconds=5,
        statement_timeout_seconds=BUDGET_SECONDS,
    )

    async def read() -> list[tuple[Any, ...]]:
        started = time.monotonic()
        with pytest.raises(DatabaseTimedOut):
            await reader.fetch(slow_statement(engine), ())
        assert time.monotonic() - started < SLOW_SECONDS / 2
        return await reader.fetch("SELECT 1", ())  # the connection answers the next one

    assert asyncio.run(read()) == [(1,)]


def test_costly_sqlite_reads_leave_the_loop_until_they_prove_cheap(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = SqliteReader(_sqlite_path(engine), 5.0)
    in_threads: list[str] = []
    run_in_thread = reader._in_thread

    async def counting(sql: str, params: tuple[Any, ...]) -> tuple[list[Any], float]:
        in_threads.append(sql)
        return await run_in_thread(sql, params)

    monkeypatch.setattr(reader, "_in_thread", counting)
    cheap = "SELECT count(*) FROM recipe"
    costly = SQLITE_SLOW_COUNT.replace("3000000", "300000")  # tens of milliseconds

    async def read() -> None:
        for _ in range(3):
            await reader.fetch_costly(cheap, ())
            await reader.fetch_costly(costly, ())

    try:
        asyncio.run(read())
    finally:
        reader.close()
    # The cheap one ran in a thread once, then on the loop; the costly one never left the lane.
    assert in_threads == [cheap, costly, costly, costly]
