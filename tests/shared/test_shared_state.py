"""State that must be shared lives in Redis when REDIS_URL is set: two real server processes
against one database and one Redis behave as one service."""

from __future__ import annotations

import sys
import uuid
from contextlib import ExitStack

import httpx2
from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from tests.helpers import LIVE_EMAIL_DOMAIN, live_email
from tests.reddit.fake_reddit import serve_fake_reddit
from tests.servers import run_server, server_env
from users.models import User

REDIS_URL = "redis://127.0.0.1:6379/0"
LOGIN = "/api/v1/auth/login"
SIGNUP = "/api/v1/auth/signup"
IDEAS = "/api/v1/ideas/?t=week&limit=3"


def test_the_login_throttle_is_shared_by_two_processes(engine: Engine) -> None:
    env = server_env(
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=f"larder-test-{uuid.uuid4().hex}:",
        LOGIN_MAX_FAILURES="3",
        LOGIN_WINDOW_SECONDS="60",
    )
    command = [sys.executable, "-m", "uvicorn", "main:app", "--port", "{port}"]
    with ExitStack() as stack:
        first = stack.enter_context(run_server(command=command, env=env))
        second = stack.enter_context(run_server(command=command, env=env))
        email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
        attempt = {"username": email, "password": "not the password"}

        a = stack.enter_context(httpx2.Client(base_url=first.base_url))
        b = stack.enter_context(httpx2.Client(base_url=second.base_url))
        assert [a.post(LOGIN, data=attempt).status_code for _ in range(3)] == [400] * 3
        # The other process knows: the pair is locked out there too.
        locked = b.post(LOGIN, data=attempt)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 60
        assert a.post(LOGIN, data=attempt).status_code == 429
        # Another email from the same address is unaffected.
        other = {"username": f"other-{uuid.uuid4().hex[:8]}@example.com", "password": "x" * 9}
        assert b.post(LOGIN, data=other).status_code == 400


def test_the_ideas_cache_is_shared_by_two_processes(engine: Engine) -> None:
    with serve_fake_reddit() as (fake, reddit_url):
        env = server_env(
            REDIS_URL=REDIS_URL,
            REDIS_KEY_PREFIX=f"larder-test-{uuid.uuid4().hex}:",
            REDDIT_BASE_URL=reddit_url,
            REDDIT_SUBREDDITS="recipes,easyrecipes",
        )
        command = [sys.executable, "-m", "uvicorn", "main:app", "--port", "{port}"]
        with ExitStack() as stack:
            first = stack.enter_context(run_server(command=command, env=env))
            second = stack.enter_context(run_server(command=command, env=env))
            stack.callback(_delete_live_users, engine)
            email = live_email()
            a = stack.enter_context(httpx2.Client(base_url=first.base_url, timeout=10))
            b = stack.enter_context(httpx2.Client(base_url=second.base_url, timeout=10))
            password = "a long enough password for tests"
            assert a.post(SIGNUP, json={"email": email, "password": password}).status_code == 201
            token = a.post(LOGIN, data={"username": email, "password": password}).json()
            auth = {"Authorization": f"Bearer {token['access_token']}"}

            warmed = a.get(IDEAS, headers=auth)
            assert warmed.status_code == 200, warmed.text
            fetched = len(fake.requests)
            assert fetched == 2  # one per subreddit
            # The other process answers from the cache the first one filled.
            served = b.get(IDEAS, headers=auth)
            assert served.status_code == 200
            assert served.json() == warmed.json()
            assert len(fake.requests) == fetched


def _delete_live_users(engine: Engine) -> None:
    with Session(engine) as session:
        session.exec(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
        session.commit()
