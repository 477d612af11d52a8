"""Login and reset throttling per (email, client address), in memory and in Redis."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from shared.settings import clear_settings_caches
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer

LOGIN = "/api/v1/auth/login"
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Request this before `client`: the app's store is opened from these settings."""
    if request.param == "redis":
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        monkeypatch.setenv("REDIS_KEY_PREFIX", f"larder-test-{uuid.uuid4().hex}:")
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("LOGIN_WINDOW_SECONDS", "2")
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    clear_settings_caches()
    backend_name: str = request.param
    return backend_name


def _attempt(client: TestClient, email: str, password: str, address: str) -> int:
    response = client.post(
        LOGIN,
        data={"username": email, "password": password},
        headers={"X-Forwarded-For": address},
    )
    if response.status_code == 429:
        retry_after = int(response.headers["retry-after"])
        assert 1 <= retry_after <= 2
        assert response.json() == {"detail": "Too many attempts; try again later"}
    status: int = response.status_code
    return status


def test_the_store_backend_is_the_one_configured(backend: str, client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    assert type(store).__name__ == {"memory": "MemoryStore", "redis": "RedisStore"}[backend]


def test_failures_lock_out_the_pair_then_the_window_passes(
    backend: str, client: TestClient
) -> None:
    email = f"target-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=email)

    statuses = [_attempt(client, email, "wrong-password", "203.0.113.7") for _ in range(3)]
    assert statuses == [400, 400, 400]
    # Locked out, even with the right password.
    assert _attempt(client, email, DEFAULT_PASSWORD, "203.0.113.7") == 429
    assert _attempt(client, email, "wrong-password", "203.0.113.7") == 429
    # Another address is unaffected, for the same email.
    assert _attempt(client, email, DEFAULT_PASSWORD, "198.51.100.9") == 200

    time.sleep(2.2)
    assert _attempt(client, email, DEFAULT_PASSWORD, "203.0.113.7") == 200


def test_other_emails_from_the_same_address_are_unaffected(
    backend: str, client: TestClient
) -> None:
    locked = f"locked-{uuid.uuid4().hex[:8]}@example.com"
    free = f"free-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=locked)
    make_user(email=free)
    for _ in range(3):
        _attempt(client, locked, "wrong-password", "203.0.113.8")
    assert _attempt(client, locked, DEFAULT_PASSWORD, "203.0.113.8") == 429
    assert _attempt(client, free, DEFAULT_PASSWORD, "203.0.113.8") == 200


def test_unknown_emails_are_throttled_too(backend: str, client: TestClient) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    statuses = [_attempt(client, ghost, "guess-guess", "203.0.113.9") for _ in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_a_success_clears_earlier_failures(backend: str, client: TestClient) -> None:
    email = f"clumsy-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=email)
    for _ in range(2):
        _attempt(client, email, "wrong-password", "203.0.113.10")
    assert _attempt(client, email, DEFAULT_PASSWORD, "203.0.113.10") == 200
    for _ in range(2):
        assert _attempt(client, email, "wrong-password", "203.0.113.10") == 400
    assert _attempt(client, email, DEFAULT_PASSWORD, "203.0.113.10") == 200


def test_password_reset_requests_are_throttled(backend: str, client: TestClient) -> None:
    email = f"spammed-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=email)

    def request_reset(address: str) -> int:
        response = client.post(
            "/api/v1/auth/password-reset/request",
            json={"email": email},
            headers={"X-Forwarded-For": address},
        )
        status: int = response.status_code
        return status

    assert [request_reset("203.0.113.11") for _ in range(4)] == [202, 202, 202, 429]
    assert request_reset("198.51.100.11") == 202


def test_forwarded_for_is_ignored_from_untrusted_peers(
    monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    """Without trusted proxies, a client cannot dodge the limit by inventing addresses."""
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("LOGIN_WINDOW_SECONDS", "2")
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    clear_settings_caches()
    email = f"dodger-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=email)
    statuses = [_attempt(client, email, "wrong-password", f"192.0.2.{n}") for n in range(1, 4)]
    assert statuses == [400, 400, 429]


def test_a_throttled_login_does_not_touch_tokens(backend: str, client: TestClient) -> None:
    email = f"tokened-{uuid.uuid4().hex[:8]}@example.com"
    make_user(email=email)
    ok = client.post(
        LOGIN,
        data={"username": email, "password": DEFAULT_PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.50"},
    ).json()
    for _ in range(4):
        _attempt(client, email, "wrong-password", "203.0.113.12")
    assert client.get("/api/v1/auth/me", headers=bearer(ok)).status_code == 200


@pytest.fixture
def unreachable_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Request this before `client`: nothing listens on the discard port."""
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    clear_settings_caches()


def test_an_unreachable_redis_fails_closed_with_503(
    unreachable_redis: None, client: TestClient
) -> None:
    """Without its counts the throttle cannot tell a guesser from a user: it refuses both."""
    make_user(email="closed@example.com")
    response = client.post(
        LOGIN, data={"username": "closed@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"detail": "Sign-in is temporarily unavailable; try again shortly"}
