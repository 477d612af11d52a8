"""State that must be shared lives in Redis when REDIS_URL is set: two real server processes
against one database and one Redis behave as one service."""

from __future__ import annotations

import sys
import uuid
from contextlib import ExitStack

import httpx
from sqlalchemy import Engine

from tests.servers import run_server, server_env

REDIS_URL = "redis://127.0.0.1:6379/0"
LOGIN = "/api/v1/auth/login"


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

        a = stack.enter_context(httpx.Client(base_url=first.base_url))
        b = stack.enter_context(httpx.Client(base_url=second.base_url))
        assert [a.post(LOGIN, data=attempt).status_code for _ in range(3)] == [400] * 3
        # The other process knows: the pair is locked out there too.
        locked = b.post(LOGIN, data=attempt)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 60
        assert a.post(LOGIN, data=attempt).status_code == 429
        # Another email from the same address is unaffected.
        other = {"username": f"other-{uuid.uuid4().hex[:8]}@example.com", "password": "x" * 9}
        assert b.post(LOGIN, data=other).status_code == 400


# The ideas cache (issue 5) is shared the same way, through the same store; its two-process
# test joins this module once the ideas feature is on main.
