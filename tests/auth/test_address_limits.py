"""Limits per client address, in memory and in Redis: failed password checks across accounts
(IPv6 by /64), sign-ups, reset requests, single sign-on starts, and the password change's
current-password check; and an in-process store that junk cannot make forget a count."""

from __future__ import annotations

import threading
import uuid

import pytest
from fastapi.testclient import TestClient

from auth import passwords
from shared.settings import clear_settings_caches
from shared.stores import MemoryStore
from tests.auth.sso_helpers import SSO
from tests.auth.test_throttle import REDIS_URL
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, login

LOGIN = "/api/v1/auth/login"
RESET = "/api/v1/auth/password-reset/request"
SIGNUP = "/api/v1/auth/signup"


@pytest.fixture(params=["memory", "redis"])
def limits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Request this before `client`: small limits, and X-Forwarded-For believed from the
    test client's address, so each request can come from the address it names."""
    if request.param == "redis":
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        monkeypatch.setenv("REDIS_KEY_PREFIX", f"larder-test-{uuid.uuid4().hex}:")
    for name, value in {
        "LOGIN_MAX_FAILURES": "3",
        "LOGIN_MAX_FAILURES_PER_ADDRESS": "4",
        "LOGIN_WINDOW_SECONDS": "900",
        "SIGNUP_RATE_PER_HOUR": "2",
        "PASSWORD_RESET_RATE_PER_HOUR": "3",
        "SSO_LOGIN_RATE_PER_MINUTE": "2",
        "TRUSTED_PROXIES": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    clear_settings_caches()
    backend: str = request.param
    return backend


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> None:
    """Request this before `client`: default limits, X-Forwarded-For believed."""
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")
    clear_settings_caches()


def email() -> str:
    return f"someone-{uuid.uuid4().hex[:8]}@example.com"


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def log_in(client: TestClient, who: str, password: str, address: str) -> int:
    response = client.post(
        LOGIN, data={"username": who, "password": password}, headers=from_address(address)
    )
    if response.status_code == 429:
        assert 1 <= int(response.headers["retry-after"]) <= 900
    status: int = response.status_code
    return status


class HashCount:
    """Counts argon2 hashes of new passwords (the real hash still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._lock = threading.Lock()
        real = passwords.hash_password

        def counted(password: str) -> str:
            with self._lock:
                self.count += 1
            return real(password)

        monkeypatch.setattr(passwords, "hash_password", counted)


def test_one_address_is_limited_across_accounts(limits: str, client: TestClient) -> None:
    mine = email()
    make_user(email=mine)
    statuses = [log_in(client, email(), "wrong password", "203.0.113.20") for _ in range(4)]
    assert statuses == [400, 400, 400, 400]
    # A fifth account from that address is refused, even with the right password...
    assert log_in(client, mine, DEFAULT_PASSWORD, "203.0.113.20") == 429
    assert log_in(client, email(), "wrong password", "203.0.113.20") == 429
    # ...while another address is unaffected.
    assert log_in(client, mine, DEFAULT_PASSWORD, "198.51.100.20") == 200


def test_a_success_neither_resets_nor_uses_up_the_address_count(
    limits: str, client: TestClient
) -> None:
    """Signing in to one's own account between guesses buys no further guesses."""
    mine = email()
    make_user(email=mine)
    for _ in range(3):
        assert log_in(client, email(), "wrong password", "203.0.113.21") == 400
    assert log_in(client, mine, DEFAULT_PASSWORD, "203.0.113.21") == 200
    assert log_in(client, mine, DEFAULT_PASSWORD, "203.0.113.21") == 200
    assert log_in(client, email(), "wrong password", "203.0.113.21") == 400
    assert log_in(client, email(), "wrong password", "203.0.113.21") == 429


def test_ipv6_clients_are_counted_by_their_64(limits: str, client: TestClient) -> None:
    same_64 = ["2001:db8:1:2::1", "2001:db8:1:2::ffff:2", "2001:db8:1:2:abcd::9", "2001:db8:1:2::7"]
    assert [log_in(client, email(), "wrong password", a) for a in same_64] == [400] * 4
    assert log_in(client, email(), "wrong password", "2001:db8:1:2:ffff:ffff:ffff:ffff") == 429
    assert log_in(client, email(), "wrong password", "2001:db8:1:3::1") == 400
    # IPv4 neighbours are separate clients.
    assert log_in(client, email(), "wrong password", "192.0.2.1") == 400
    assert log_in(client, email(), "wrong password", "192.0.2.2") == 400


def test_sign_ups_are_limited_per_address_before_any_hashing(
    limits: str, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes = HashCount(monkeypatch)

    def sign_up(address: str) -> int:
        response = client.post(
            SIGNUP,
            json={"email": email(), "password": "a long enough password"},
            headers=from_address(address),
        )
        if response.status_code == 429:
            assert 3500 <= int(response.headers["retry-after"]) <= 3600
        status: int = response.status_code
        return status

    assert [sign_up("203.0.113.22") for _ in range(4)] == [201, 201, 429, 429]
    assert hashes.count == 2  # the refused sign-ups hashed nothing
    assert sign_up("198.51.100.22") == 201


def test_the_password_change_is_throttled_like_a_login(limits: str, client: TestClient) -> None:
    user = make_user(email=email())
    auth = bearer(login(client, user.email))

    def change(current: str, address: str) -> int:
        response = client.post(
            "/api/v1/users/me/password",
            json={"current_password": current, "new_password": "a brand new password"},
            headers={**auth, **from_address(address)},
        )
        status: int = response.status_code
        return status

    assert [change("wrong password", "203.0.113.23") for _ in range(3)] == [400, 400, 400]
    assert change(DEFAULT_PASSWORD, "203.0.113.23") == 429
    assert change(DEFAULT_PASSWORD, "198.51.100.23") == 204


def test_reset_requests_are_limited_per_address(limits: str, client: TestClient) -> None:
    def request_reset(address: str) -> int:
        response = client.post(RESET, json={"email": email()}, headers=from_address(address))
        status: int = response.status_code
        return status

    assert [request_reset("203.0.113.24") for _ in range(3)] == [202, 202, 202]
    assert request_reset("203.0.113.24") == 429
    assert request_reset("198.51.100.24") == 202


def test_refused_reset_requests_leave_nothing_in_the_store(client: TestClient) -> None:
    """The address is counted first, so a flood of random emails adds no counters."""
    store = MemoryStore()
    client.app.state.store = store  # type: ignore[attr-defined]
    for _ in range(20):  # the address's limit (20 an hour) is used up
        client.post(RESET, json={"email": email()})
    kept = len(store)
    for _ in range(50):
        assert client.post(RESET, json={"email": email()}).status_code == 429
    assert len(store) == kept


@pytest.mark.usefixtures("sso_settings")
def test_sso_sign_in_starts_are_limited_per_address(limits: str, client: TestClient) -> None:
    def start(address: str) -> int:
        response = client.get(
            f"{SSO}/mock/login", headers=from_address(address), follow_redirects=False
        )
        status: int = response.status_code
        return status

    assert [start("203.0.113.25") for _ in range(3)] == [302, 302, 429]
    assert start("198.51.100.25") == 302


def test_junk_in_a_full_store_cannot_reset_a_failure_count(
    proxied: None, client: TestClient
) -> None:
    """A flood of counters for random emails, from many addresses, once evicted the oldest
    entries of the in-process store: a victim's failure count among them."""
    client.app.state.store = MemoryStore(max_entries=50)  # type: ignore[attr-defined]
    victim = email()
    make_user(email=victim)
    for _ in range(4):
        assert log_in(client, victim, "wrong password", "127.0.0.1") == 400
    for n in range(200):
        flood = client.post(RESET, json={"email": email()}, headers=from_address(f"10.0.{n}.1"))
        assert flood.status_code == 202
    assert log_in(client, victim, "wrong password", "127.0.0.1") == 400
    assert log_in(client, victim, DEFAULT_PASSWORD, "127.0.0.1") == 429


def test_when_no_counter_fits_attempts_fail_closed(client: TestClient) -> None:
    client.app.state.store = MemoryStore(max_counters=10)  # type: ignore[attr-defined]
    victim = email()
    make_user(email=victim)
    for _ in range(4):
        assert log_in(client, victim, "wrong password", "127.0.0.1") == 400
    statuses = [client.post(RESET, json={"email": email()}).status_code for _ in range(10)]
    assert statuses[-1] == 503  # no room for a new counter: refused, not let through
    refused = client.post(RESET, json={"email": email()})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    # The victim's counts were kept: the fifth failure is still the last one allowed.
    assert log_in(client, victim, "wrong password", "127.0.0.1") == 400
    assert log_in(client, victim, DEFAULT_PASSWORD, "127.0.0.1") == 429
