"""When the database is away or its pool is used up: a prompt 503 with Retry-After, nothing
internal in the answer, and recovery without a restart."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from shared.database import build_engine, get_engine, get_session
from shared.settings import DatabaseSettings, clear_settings_caches
from tests.servers import free_port, run_server, server_env
from tests.tcp_proxy import TcpProxy

UNAVAILABLE = {"detail": "Service temporarily unavailable"}
PROMPT_SECONDS = 2.0
IS_POSTGRES = os.environ["DATABASE_URL"].startswith(("postgresql", "postgres:"))


def assert_unavailable(response: Any, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert int(response.headers["retry-after"]) > 0
    assert elapsed < PROMPT_SECONDS


def _reset_engines() -> None:
    get_engine.cache_clear()


@pytest.fixture
def unreachable_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The application's engine points at a loopback port nobody listens on."""
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/larder")
    clear_settings_caches()
    _reset_engines()
    yield
    get_engine().dispose()
    _reset_engines()


def test_an_unreachable_database_is_a_prompt_503(
    engine: Engine, unreachable_database: None, app: FastAPI
) -> None:
    with TestClient(app) as client:
        for path in ("/api/v1/recipes/1", "/api/v1/recipes/?limit=5"):
            started = time.monotonic()
            response = client.get(path)
            assert_unavailable(response, time.monotonic() - started)
            assert "postgres" not in response.text.lower()
        started = time.monotonic()
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and time.monotonic() - started < PROMPT_SECONDS + 1
        assert ready.json()["database"] == "unavailable"
        assert client.get("/health/live").status_code == 200


def test_an_exhausted_pool_is_a_prompt_503(engine: Engine, app: FastAPI) -> None:
    small = build_engine(DatabaseSettings(db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.5))

    def small_pool_session() -> Iterator[Session]:
        with Session(small) as session:
            yield session

    app.dependency_overrides[get_session] = small_pool_session
    try:
        with TestClient(app) as client:
            held = small.connect()  # the pool's only connection
            started = time.monotonic()
            response = client.get("/api/v1/recipes/1")
            assert_unavailable(response, time.monotonic() - started)
            held.close()
            assert client.get("/api/v1/recipes/1").status_code in {200, 404}
    finally:
        app.dependency_overrides.clear()
        small.dispose()


@pytest.mark.skipif(
    not IS_POSTGRES, reason="takes a PostgreSQL server away; runs when TEST_DATABASE_URL is one"
)
def test_a_server_answers_503_while_postgres_is_away_and_recovers_by_itself(
    engine: Engine,
) -> None:
    parts = urlsplit(os.environ["DATABASE_URL"])
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
    through_proxy = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    proxy.start()
    command = [sys.executable, "-m", "uvicorn", "main:app", "--port", "{port}"]
    try:
        with run_server(command=command, env=server_env(DATABASE_URL=through_proxy)) as server:
            with server.client() as http:
                assert http.get("/api/v1/recipes/?limit=1").status_code == 200
                assert http.get("/health/ready").status_code == 200

                proxy.stop()  # the database goes away, with every pooled connection
                for _ in range(3):
                    started = time.monotonic()
                    response = http.get("/api/v1/recipes/?limit=1")
                    assert_unavailable(response, time.monotonic() - started)
                assert http.get("/health/ready").status_code == 503
                assert http.get("/health/live").status_code == 200

                proxy.start()  # it is back: no restart, no failed request
                assert http.get("/api/v1/recipes/?limit=1").status_code == 200
                assert http.get("/health/ready").status_code == 200
            log = server.log()
    finally:
        proxy.stop()
    assert "database unavailable" in log
    assert "SELECT" not in log  # the SQL stays out of the log too
