"""A burst of concurrent wrong logins for one account, against a real server (uvicorn on a
loopback port), on both stores: each attempt is counted before its password is checked, so the
burst gets no more password checks than LOGIN_MAX_FAILURES allows and the rest are 429."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx2
import pytest
from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from auth import passwords
from main import create_app
from shared.settings import clear_settings_caches
from tests.helpers import LIVE_EMAIL_DOMAIN, live_email
from tests.live_server import serve
from tests.redis_support import TEST_REDIS_URL, delete_prefix, require_redis, unique_prefix
from users.models import User

BURST = 40
LIMIT = 5
PASSWORD = "a long enough password for tests"


class PasswordChecks:
    """Counts the password checks the server makes (the real argon2 check still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        real = passwords.verify_password

        def counted(hashed: str | None, password: str) -> bool:
            with self._lock:
                self.count += 1
            return real(hashed, password)

        monkeypatch.setattr(passwords, "verify_password", counted)


@pytest.fixture(params=["memory", "redis"])
def server(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> Iterator[str]:
    """Larder on a free loopback port, its counts in the process or in Redis."""
    prefix = None
    if request.param == "redis":
        asyncio.run(require_redis())
        prefix = unique_prefix()
        monkeypatch.setenv("REDIS_URL", TEST_REDIS_URL)
        monkeypatch.setenv("REDIS_KEY_PREFIX", prefix)
    monkeypatch.setenv("LOGIN_MAX_FAILURES", str(LIMIT))
    monkeypatch.setenv("LOGIN_WINDOW_SECONDS", "900")
    clear_settings_caches()
    try:
        with serve(create_app()) as base_url:
            yield base_url
    finally:
        with Session(engine) as session:
            session.exec(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
            session.commit()
        if prefix is not None:
            asyncio.run(delete_prefix(prefix))


async def burst_of_logins(base_url: str, email: str, password: str) -> list[httpx2.Response]:
    limits = httpx2.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        return list(
            await asyncio.gather(
                *(
                    http.post("/api/v1/auth/login", data={"username": email, "password": password})
                    for _ in range(BURST)
                )
            )
        )


def test_a_burst_of_wrong_logins_gets_only_the_limits_password_checks(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = live_email()
    signed_up = httpx2.post(
        f"{server}/api/v1/auth/signup", json={"email": email, "password": PASSWORD}
    )
    assert signed_up.status_code == 201, signed_up.text
    checks = PasswordChecks(monkeypatch)

    responses = asyncio.run(burst_of_logins(server, email, "wrong password, guessed"))

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {400: LIMIT, 429: BURST - LIMIT}
    assert checks.count == LIMIT  # the refused attempts never reached argon2
    for response in responses:
        if response.status_code == 429:
            assert 1 <= int(response.headers["retry-after"]) <= 900
            assert response.json() == {"detail": "Too many attempts; try again later"}
    # Locked out, even with the right password, and that attempt checks nothing either.
    right = httpx2.post(
        f"{server}/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    )
    assert right.status_code == 429
    assert checks.count == LIMIT


def test_a_burst_for_an_unknown_email_is_held_to_the_limit_too(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown emails cost a dummy hash each: they are counted the same way."""
    checks = PasswordChecks(monkeypatch)
    ghost = f"ghost-{uuid.uuid4().hex[:8]}{LIVE_EMAIL_DOMAIN}"

    responses = asyncio.run(burst_of_logins(server, ghost, "anything at all"))

    assert Counter(response.status_code for response in responses) == {
        400: LIMIT,
        429: BURST - LIMIT,
    }
    assert checks.count == LIMIT
