"""Concurrent writers on SQLite: within a process they take turns at the write gate; across
processes they wait out the busy timeout and then get a 503, never a 500 or a lost write."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from prestart import migrate
from shared.database import build_engine
from shared.settings import DatabaseSettings
from shared.sqlite_connections import WriteGate
from tests.servers import run_server, server_env
from users.models import User

pytestmark = pytest.mark.slow

WRITERS = 50
CREATES_EACH = 4
# Writers share sign-ins (each sign-in costs a password hash); each still writes on its own.
SIGN_INS = 10
PASSWORD = "a long enough password"
# Short enough that writers left to SQLite's sleeping busy handler run out of it under this
# load; long enough for fifty writers taking turns at the gate on a busy machine.
BUSY_TIMEOUT_SECONDS = "2"


@pytest.fixture
def sqlite_file(engine: Engine) -> Iterator[str]:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    with tempfile.TemporaryDirectory(prefix="larder-writes-") as folder:
        url = f"sqlite:///{Path(folder) / 'writes.db'}"
        migrate(url)
        yield url


def bearer_tokens(base_url: str, count: int) -> list[str]:
    with httpx2.Client(base_url=base_url, timeout=30) as http:
        email = "writer@example.com"
        assert (
            http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
        ).status_code == 201
        tokens = []
        for _ in range(count):
            answer = http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
            tokens.append(answer.json()["access_token"])
        return tokens


async def create_concurrently(
    base_urls: list[str], tokens: list[str], *, writers: int, creates_each: int
) -> list[tuple[int, str, dict[str, str]]]:
    """`writers` clients at once, each creating `creates_each` recipes in a row; writer n talks
    to base_urls[n % len(base_urls)]. Returns (status, label, headers) per create."""
    answers: list[tuple[int, str, dict[str, str]]] = []
    limits = httpx2.Limits(max_connections=writers)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:

        async def writer(number: int, token: str) -> None:
            base_url = base_urls[number % len(base_urls)]
            for n in range(creates_each):
                label = f"Writer {number} dish {n}"
                response = await http.post(
                    f"{base_url}/api/v1/recipes/",
                    json={"label": label, "source": "Load", "url": "https://example.com/r"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                answers.append((response.status_code, label, dict(response.headers)))

        await asyncio.gather(*(writer(n, tokens[n % len(tokens)]) for n in range(writers)))
    return answers


def stored_labels(url: str) -> Counter[str]:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT label FROM recipe WHERE source = 'Load'").fetchall()
    return Counter(label for (label,) in rows)


def test_fifty_concurrent_writers_all_succeed_and_each_write_is_stored_once(
    sqlite_file: str,
) -> None:
    env = server_env(DATABASE_URL=sqlite_file, SQLITE_BUSY_TIMEOUT_SECONDS=BUSY_TIMEOUT_SECONDS)
    with run_server(env=env) as server:
        tokens = bearer_tokens(server.base_url, SIGN_INS)
        answers = asyncio.run(
            create_concurrently(
                [server.base_url], tokens, writers=WRITERS, creates_each=CREATES_EACH
            )
        )

    statuses = Counter(status for status, _, _ in answers)
    assert statuses == {201: WRITERS * CREATES_EACH}
    stored = stored_labels(sqlite_file)
    assert sum(stored.values()) == WRITERS * CREATES_EACH
    assert set(stored.values()) == {1}


def test_two_processes_on_one_file_degrade_to_503s_and_lose_nothing(sqlite_file: str) -> None:
    env = server_env(DATABASE_URL=sqlite_file, SQLITE_BUSY_TIMEOUT_SECONDS="0.5")
    with run_server(env=env) as first, run_server(env=env) as second:
        tokens = bearer_tokens(first.base_url, SIGN_INS)
        answers = asyncio.run(
            create_concurrently(
                [first.base_url, second.base_url], tokens, writers=20, creates_each=CREATES_EACH
            )
        )

    assert {status for status, _, _ in answers} <= {201, 503}
    for status, _, headers in answers:
        if status == 503:
            assert int(headers["retry-after"]) > 0
    created = Counter(label for status, label, _ in answers if status == 201)
    assert stored_labels(sqlite_file) == created


def test_the_gate_serves_writers_in_turn_and_times_out_cleanly() -> None:
    gate = WriteGate()
    assert gate.acquire(timeout=0)
    assert not gate.acquire(timeout=0.05)  # held: a bounded wait, then no

    order: list[int] = []
    started = []

    def writer(number: int) -> None:
        started.append(number)
        assert gate.acquire(timeout=10)
        order.append(number)
        gate.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        while len(started) <= number or len(gate._waiters) <= number:
            pass  # each writer queues before the next one starts
        threads.append(thread)
    gate.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert gate.acquire(timeout=0)  # free again


def test_reads_in_a_session_leave_the_write_lock_free_until_it_writes(sqlite_file: str) -> None:
    engine = build_engine(DatabaseSettings(database_url=sqlite_file))
    other = sqlite3.connect(sqlite_file.removeprefix("sqlite:///"), timeout=0)
    try:
        with Session(engine) as session:
            session.exec(select(User)).all()  # a request authenticating, say
            other.execute("BEGIN IMMEDIATE")  # the lock is free: another writer gets it
            other.execute("ROLLBACK")
            session.add(User(email="gate@example.com", hashed_password="x"))
            session.flush()  # now this session holds the write lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            session.commit()
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()
