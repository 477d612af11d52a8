"""The queue for a password-hashing slot is bounded in time: with every slot held, a login or a
sign-up is refused with 503 and Retry-After within PASSWORD_HASH_QUEUE_SECONDS, instead of
waiting behind the hashes in front of it; and the refused attempt does not count as a failure."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from auth import passwords
from auth.throttle import throttle_key
from shared.settings import clear_settings_caches
from tests.helpers import LIVE_EMAIL_DOMAIN, form_token, live_email

QUEUE_SECONDS = 0.5
# Far more than the queue bound, far less than a held slot would make a request wait.
BOUND_SECONDS = 5.0
HELD_SECONDS = 15.0
LOGIN = "/api/v1/auth/login"

R = TypeVar("R")


class HeldSlot:
    """Makes the next password check hold its hashing slot until `let_go` (or HELD_SECONDS)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.holding = threading.Event()
        self._release = threading.Event()
        self._first = True
        real = passwords.verify_password

        def check(hashed: str | None, password: str) -> bool:
            if self._first:
                self._first = False
                self.holding.set()
                self._release.wait(HELD_SECONDS)
            return real(hashed, password)

        monkeypatch.setattr(passwords, "verify_password", check)

    def let_go(self) -> None:
        self._release.set()


@pytest.fixture
def one_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Request this before the client: one hashing slot, a short queue."""
    monkeypatch.setenv("PASSWORD_HASH_CONCURRENCY", "1")
    monkeypatch.setenv("PASSWORD_HASH_QUEUE_SECONDS", str(QUEUE_SECONDS))
    clear_settings_caches()
    passwords.reset_password_caches()


@pytest.fixture
def held(
    one_slot: None, live_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[HeldSlot, Future[Any]]]:
    """The one slot, held by a login in flight (its answer is the future)."""
    slot = HeldSlot(monkeypatch)
    with ThreadPoolExecutor(max_workers=1) as pool:
        ghost = f"holder-{uuid.uuid4().hex[:8]}{LIVE_EMAIL_DOMAIN}"
        in_flight = pool.submit(
            live_client.post, LOGIN, data={"username": ghost, "password": "whatever it is"}
        )
        assert slot.holding.wait(BOUND_SECONDS), "the first login never reached its hash"
        try:
            yield slot, in_flight
        finally:
            slot.let_go()


def timed(call: Callable[[], R]) -> tuple[R, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_login_that_gets_no_slot_in_time_is_503_with_retry_after(
    held: tuple[HeldSlot, Future[Any]], live_client: TestClient
) -> None:
    slot, in_flight = held
    email = f"queued-{uuid.uuid4().hex[:8]}{LIVE_EMAIL_DOMAIN}"

    response, seconds = timed(
        lambda: live_client.post(LOGIN, data={"username": email, "password": "a guess at it"})
    )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"detail": "Too many sign-ins at once; try again shortly"}
    assert QUEUE_SECONDS <= seconds < BOUND_SECONDS
    # No password was checked: the attempt is given back, it is not a failure.
    store = live_client.app.state.store  # type: ignore[attr-defined]
    pair = throttle_key("login", "127.0.0.1", email)
    assert live_client.portal.call(store.count, pair)[0] == 0  # type: ignore[union-attr]

    slot.let_go()
    assert in_flight.result(timeout=HELD_SECONDS).status_code == 400


def test_a_signup_that_gets_no_slot_in_time_is_503_and_creates_nothing(
    held: tuple[HeldSlot, Future[Any]], live_client: TestClient
) -> None:
    email = live_email()

    response, seconds = timed(
        lambda: live_client.post(
            "/api/v1/auth/signup", json={"email": email, "password": "a long enough password"}
        )
    )

    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert seconds < BOUND_SECONDS
    held[0].let_go()
    # Nothing was stored: the same sign-up works once a slot is free.
    again = live_client.post(
        "/api/v1/auth/signup", json={"email": email, "password": "a long enough password"}
    )
    assert again.status_code == 201, again.text


def test_the_login_page_says_it_is_busy_with_503(
    held: tuple[HeldSlot, Future[Any]], live_client: TestClient
) -> None:
    token = form_token(live_client.get("/login").text)
    form = {"email": live_email(), "password": "a guess at it", "csrf_token": token}

    response, seconds = timed(lambda: live_client.post("/login", data=form))

    assert response.status_code == 503
    assert "Signing in is busy right now" in response.text
    assert response.headers["retry-after"] == "1"
    assert seconds < BOUND_SECONDS
