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
os.environ.pop("SMTP_HOST", None)
# A lighter argon2id profile keeps the suite fast; the production profile is tested on its own.
os.environ.setdefault("ARGON2_MEMORY_KIB", "8192")
os.environ.setdefault("ARGON2_TIME_COST", "1")
# Nothing listens on the loopback discard port: a test that forgets to point the ideas feature at
# its fake Reddit fails fast instead of reaching the real one.
os.environ["REDDIT_BASE_URL"] = "http://127.0.0.1:9"

import pytest  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, delete  # noqa: E402
from sqlmodel import Session, col  # noqa: E402

from auth.passwords import reset_password_caches  # noqa: E402
from prestart import migrate  # noqa: E402
from shared.database import get_engine, get_session  # noqa: E402
from shared.settings import clear_settings_caches  # noqa: E402
from tests import factories  # noqa: E402
from tests.helpers import LIVE_EMAIL_DOMAIN  # noqa: E402
from users.models import User  # noqa: E402

clear_settings_caches()


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
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as test_client:
        yield test_client
    app.dependency_overrides.clear()


@pytest.fixture
def live_client(engine: Engine, app: FastAPI) -> Iterator[TestClient]:
    """A client whose requests use real, committed transactions (no rollback wrapper).

    For tests of concurrency between requests. Whatever they create must be owned by users
    whose email ends with LIVE_EMAIL_DOMAIN: those users (and by cascade, their recipes and
    sessions) are deleted afterwards.
    """
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as test_client:
        yield test_client
    with Session(engine) as session:
        session.exec(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
        session.commit()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test starts from the environment's settings, whatever an earlier test changed."""
    yield
    clear_settings_caches()
    reset_password_caches()


FEATURES = ("recipes", "users", "auth", "reddit", "shared")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the feature whose folder it lives in (`make test FEATURE=auth`).

    Tests directly under tests/ exercise the platform (migrations, pre-start, architecture)
    and count as `shared`.
    """
    tests_root = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(tests_root)
        folder = relative.parts[0] if len(relative.parts) > 1 else "shared"
        item.add_marker(getattr(pytest.mark, folder if folder in FEATURES else "shared"))
