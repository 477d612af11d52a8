"""Fixtures for the ideas feature: a fake Reddit on a loopback port, and Larder pointed at it.

`larder` starts Larder the way production does (settings from the environment, the lifespan
opening the store and the Reddit client) with REDDIT_BASE_URL at the fake, and talks to it over
ASGI with an httpx2.AsyncClient, so many requests can be in flight at once. Its requests carry
a real access token of `cook`, checked as in production (inside the test's transaction).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx2
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from auth import service as auth_service
from reddit.settings import get_reddit_settings
from shared.database import get_session
from shared.settings import clear_settings_caches
from tests.factories import make_user
from tests.reddit.fake_reddit import FakeReddit, serve_fake_reddit
from users.models import User

SUBREDDITS = ("recipes", "easyrecipes", "TopSecretRecipes")


@pytest.fixture(scope="session")
def fake_reddit_server() -> Iterator[tuple[FakeReddit, str]]:
    with serve_fake_reddit() as server:
        yield server


@pytest.fixture
def fake_reddit(fake_reddit_server: tuple[FakeReddit, str]) -> Iterator[FakeReddit]:
    fake, _ = fake_reddit_server
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def reddit_env(
    monkeypatch: pytest.MonkeyPatch, fake_reddit_server: tuple[FakeReddit, str]
) -> Iterator[pytest.MonkeyPatch]:
    """The environment of a Larder that reads the fake Reddit; tests may change it further."""
    _, url = fake_reddit_server
    monkeypatch.setenv("REDDIT_BASE_URL", url)
    monkeypatch.setenv("REDDIT_SUBREDDITS", ",".join(SUBREDDITS))
    monkeypatch.setenv("REDDIT_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("REDDIT_CACHE_TTL_SECONDS", "300")
    monkeypatch.delenv("REDIS_URL", raising=False)
    yield monkeypatch
    clear_settings_caches()
    get_reddit_settings.cache_clear()


@pytest.fixture
def cook(session: object) -> User:
    return make_user(email="ideas-cook@example.com")


@pytest.fixture
def cook_token(session: Session, cook: User) -> str:
    """An access token of a fresh login session of `cook` (in the test's transaction)."""
    return auth_service.start_session(session, user=cook, scopes=frozenset()).access_token


LarderFactory = Callable[[], AbstractAsyncContextManager[httpx2.AsyncClient]]


@pytest.fixture
def larder(reddit_env: pytest.MonkeyPatch, session: Session, cook_token: str) -> LarderFactory:
    """Starts a Larder instance (lifespan and all) as the signed-in `cook`; call it per instance."""

    def session_override() -> Iterator[Session]:
        yield session

    @asynccontextmanager
    async def start() -> AsyncIterator[httpx2.AsyncClient]:
        from main import create_app

        clear_settings_caches()
        get_reddit_settings.cache_clear()
        app: FastAPI = create_app()
        app.dependency_overrides[get_session] = session_override
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app),
                base_url="http://127.0.0.1",
                headers={"Authorization": f"Bearer {cook_token}"},
            ) as client,
        ):
            yield client

    return start
