"""Test fixtures: a migrated database, a rolled-back transaction per test, and an HTTP client.

`TEST_DATABASE_URL` selects the database (any URL `DATABASE_URL` accepts); unset means a
temporary SQLite file. The schema is built once per run with `alembic upgrade head`, so the
tests exercise the migrations, not `create_all`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_temp_dir = tempfile.TemporaryDirectory(prefix="larder-tests-")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or (
    f"sqlite:///{Path(_temp_dir.name) / 'larder-test.db'}"
)
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["ENVIRONMENT"] = "test"
os.environ.pop("REDIS_URL", None)
# Nothing listens on the loopback discard port: a test that forgets to point the ideas feature at
# its fake Reddit fails fast instead of reaching the real one.
os.environ["REDDIT_BASE_URL"] = "http://127.0.0.1:9"

import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from prestart import migrate  # noqa: E402
from reddit.settings import get_reddit_settings  # noqa: E402
from shared.database import get_engine, get_session  # noqa: E402
from shared.settings import clear_settings_caches  # noqa: E402
from tests import factories  # noqa: E402

clear_settings_caches()
get_reddit_settings.cache_clear()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    migrate()
    engine = get_engine()
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back when the test ends.

    Code under test may commit: with `create_savepoint` its commits end savepoints, and the
    outer transaction still undoes everything.
    """
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    factories.bind(session)
    yield session
    factories.bind(None)
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def app() -> FastAPI:
    from main import create_app

    return create_app()


@pytest.fixture
def client(app: FastAPI, session: Session) -> Iterator[TestClient]:
    def session_override() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = session_override
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    app.dependency_overrides.clear()
