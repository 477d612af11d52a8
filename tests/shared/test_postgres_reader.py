"""The PostgreSQL reader of the fast read path, against the real server (PostgreSQL runs only).

It drives libpq's asynchronous interface itself (shared/reads.py), so these tests hold it to
what psycopg's cursor did: the same values, errors as their 4xx/503, connections that survive
a refused statement and are dropped when broken, a bounded pool.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy.engine import make_url

from shared.errors import DatabaseRefusedValue, DatabaseUnavailable
from shared.reads import PostgresReader

IS_POSTGRES = os.environ["DATABASE_URL"].startswith(("postgresql", "postgres:"))
pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="needs TEST_DATABASE_URL=postgresql://...")


def conninfo() -> str:
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def reader(size: int = 2, timeout: float = 5.0) -> PostgresReader:
    return PostgresReader(conninfo(), size=size, timeout_seconds=timeout, connect_timeout_seconds=5)


def test_values_come_back_as_psycopg_loads_them() -> None:
    async def read() -> list[tuple[object, ...]]:
        return await reader().fetch(
            "SELECT %s::int + 1, upper(%s::text), now(), NULL::text, 1.5::numeric, %s::bigint",
            (41, "café ü", 2**40),
        )

    ((number, text, moment, nothing, decimal, big),) = asyncio.run(read())

    assert (number, text, nothing, decimal, big) == (42, "CAFÉ Ü", None, Decimal("1.5"), 2**40)
    assert isinstance(moment, datetime) and moment.tzinfo is not None


def test_each_statement_is_prepared_once_per_connection() -> None:
    async def read() -> list[tuple[object, ...]]:
        one = reader(size=1)
        for value in range(3):
            assert await one.fetch("SELECT %s::int", (value,)) == [(value,)]
        listing = "SELECT statement FROM pg_prepared_statements ORDER BY prepare_time"
        await one.fetch(listing, ())
        return await one.fetch(listing, ())

    statements = [row[0] for row in asyncio.run(read())]

    assert statements == ["SELECT $1::int", "SELECT statement FROM pg_prepared_statements "
                          "ORDER BY prepare_time"]  # fmt: skip


def test_refused_values_are_422_and_the_connection_serves_on() -> None:
    async def read() -> list[str]:
        one = reader(size=1)
        outcomes = []
        for sql, params in [
            ("SELECT %s::text", ("a\x00b",)),  # libpq would silently cut it at the NUL
            ("SELECT %s::int", (99_999_999_999,)),
            ("SELECT 1 / %s::int", (0,)),
        ]:
            with pytest.raises(DatabaseRefusedValue):
                await one.fetch(sql, params)
            outcomes.append((await one.fetch("SELECT 'still here'", ()))[0][0])
        return outcomes

    assert asyncio.run(read()) == ["still here"] * 3


def test_a_broken_statement_raises_and_the_connection_serves_on() -> None:
    async def read() -> list[tuple[object, ...]]:
        one = reader(size=1)
        with pytest.raises(psycopg.errors.UndefinedTable):
            await one.fetch("SELECT * FROM no_such_table WHERE id = %s", (1,))
        return await one.fetch("SELECT %s::int", (7,))

    assert asyncio.run(read()) == [(7,)]


def test_a_connection_the_server_drops_is_503_then_replaced() -> None:
    async def read() -> tuple[object, ...]:
        one = reader(size=1)
        ((pid,),) = await one.fetch("SELECT pg_backend_pid()", ())
        with psycopg.connect(conninfo(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # The idle connection's socket is readable from now on (end of file): the reader must
        # notice once, not spin the event loop.
        cpu_before = time.process_time()
        await asyncio.sleep(0.3)
        assert time.process_time() - cpu_before < 0.1
        with pytest.raises(DatabaseUnavailable):
            await one.fetch("SELECT pg_backend_pid()", ())
        ((new_pid,),) = await one.fetch("SELECT pg_backend_pid()", ())
        return pid, new_pid

    pid, new_pid = asyncio.run(read())

    assert new_pid != pid


def test_concurrent_reads_share_a_small_pool() -> None:
    async def read() -> tuple[list[object], set[object]]:
        two = reader(size=2)
        sql = "SELECT %s::int, pg_backend_pid() FROM pg_sleep(0.02)"
        results = await asyncio.gather(*(two.fetch(sql, (n,)) for n in range(20)))
        return [rows[0][0] for rows in results], {rows[0][1] for rows in results}

    values, backends = asyncio.run(read())

    assert values == list(range(20))
    assert len(backends) == 2


def test_a_full_pool_is_503_after_the_pool_timeout() -> None:
    async def read() -> None:
        one = reader(size=1, timeout=0.2)
        slow = asyncio.create_task(one.fetch("SELECT pg_sleep(1)", ()))
        await asyncio.sleep(0.1)
        with pytest.raises(DatabaseUnavailable):
            await one.fetch("SELECT 1", ())
        await slow

    asyncio.run(read())


def test_a_cancelled_read_drops_its_connection() -> None:
    async def read() -> tuple[object, object]:
        one = reader(size=1)
        ((pid,),) = await one.fetch("SELECT pg_backend_pid()", ())
        slow = asyncio.create_task(one.fetch("SELECT pg_sleep(5)", ()))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # The next read must not meet the cancelled query's answer on the old connection.
        ((new_pid,),) = await one.fetch("SELECT pg_backend_pid()", ())
        return pid, new_pid

    pid, new_pid = asyncio.run(read())

    assert new_pid != pid
