"""One client address: `TRUSTED_PROXIES` alone decides it, and the throttles, the access log and
the application (`request.client`, the scheme) all see the same one, whatever uvicorn's own
`FORWARDED_ALLOW_IPS` says. Real servers (`python -m serve`, and `make run`'s command) on a
loopback port, with their counts in Redis where the test can read them."""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from auth.throttle import throttle_key
from shared.network import forwarded_client, parse_networks
from shared.settings import AppSettings
from shared.stores import RedisStore
from tests.redis_support import TEST_REDIS_URL, delete_prefix, require_redis, unique_prefix
from tests.servers import ROOT, Server, run_server, server_env
from tests.shared.test_serving import serve_env

SERVE_TEST_APP = [sys.executable, "-m", "serve", "--factory", "--app", "tests.slow_app:make_app"]
FORWARDED = {"X-Forwarded-For": "192.0.2.66, 203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    asyncio.run(require_redis())
    prefix = unique_prefix()
    yield prefix
    asyncio.run(delete_prefix(prefix))


def counts_for(prefix: str, address: str, email: str) -> tuple[int, int]:
    """The server's login counts for `address`: across accounts, and for `email` from it."""

    async def read() -> tuple[int, int]:
        store = RedisStore.from_url(TEST_REDIS_URL, prefix=prefix)
        try:
            per_address, _ = await store.count(throttle_key("password-address", address))
            per_pair, _ = await store.count(throttle_key("login", address, email))
        finally:
            await store.close()
        return per_address, per_pair

    return asyncio.run(read())


def access_clients(log: str, request_id: str) -> list[str]:
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [line["client"] for line in lines if line.get("request_id") == request_id]


def wrong_login(server: Server, email: str, request_id: str) -> int:
    with server.client() as http:
        response = http.post(
            "/api/v1/auth/login",
            data={"username": email, "password": "not the password"},
            headers={**FORWARDED, "X-Request-ID": request_id},
        )
    status: int = response.status_code
    return status


def seen_by_the_app(server: Server) -> dict[str, str]:
    with server.client() as http:
        seen: dict[str, str] = http.get("/test/client", headers=FORWARDED).json()
    return seen


@pytest.mark.parametrize(
    ("setting", "client", "scheme"),
    [
        ({"TRUSTED_PROXIES": "127.0.0.1"}, "203.0.113.9", "https"),
        # uvicorn would believe anyone with this; Larder trusts no proxy here.
        ({"FORWARDED_ALLOW_IPS": "*"}, "127.0.0.1", "http"),
    ],
    ids=["trusted-proxy", "forwarded-allow-ips-only"],
)
def test_the_app_the_throttle_and_the_access_log_agree_on_the_client(
    engine: Engine, redis_prefix: str, setting: dict[str, str], client: str, scheme: str
) -> None:
    env = serve_env(
        WEB_CONCURRENCY="1",
        LOG_FORMAT="json",
        REDIS_URL=TEST_REDIS_URL,
        REDIS_KEY_PREFIX=redis_prefix,
        **setting,
    )
    with run_server(command=SERVE_TEST_APP, env=env) as server:
        assert seen_by_the_app(server) == {"client": client, "scheme": scheme}
        assert wrong_login(server, "someone@example.com", "login-1") == 400
        assert server.terminate() == 0  # writes out the access lines still buffered
        log = server.log()

    assert counts_for(redis_prefix, client, "someone@example.com") == (1, 1)
    for other in {"127.0.0.1", "203.0.113.9", "192.0.2.66"} - {client}:
        assert counts_for(redis_prefix, other, "someone@example.com") == (0, 0)
    assert access_clients(log, "login-1") == [client]


def make_run_command() -> list[str]:
    """The uvicorn command line `make run` serves with, on a port of the test's choosing."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "HOST=127.0.0.1", "PORT={port}"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (line,) = [line for line in dry_run.splitlines() if " uvicorn main:app " in line]
    words = shlex.split(line)
    return [sys.executable, "-m", "uvicorn", *words[words.index("uvicorn") + 1 :]]


def test_make_run_ignores_forwarded_for_even_with_forwarded_allow_ips(
    engine: Engine, redis_prefix: str
) -> None:
    env = server_env(
        LOG_FORMAT="json",
        FORWARDED_ALLOW_IPS="*",
        LOGIN_MAX_FAILURES="2",
        REDIS_URL=TEST_REDIS_URL,
        REDIS_KEY_PREFIX=redis_prefix,
    )
    with run_server(command=make_run_command(), env=env) as server:
        statuses = []
        for n in range(3):
            with server.client() as http:
                response = http.post(
                    "/api/v1/auth/login",
                    data={"username": "someone@example.com", "password": "not the password"},
                    headers={"X-Forwarded-For": f"198.51.100.{n + 1}", "X-Request-ID": f"run-{n}"},
                )
            statuses.append(response.status_code)
        server.terminate()
        log = server.log()
    # One client, whatever it wrote in X-Forwarded-For: its third failure in a row is refused.
    assert statuses == [400, 400, 429]
    assert counts_for(redis_prefix, "127.0.0.1", "someone@example.com")[1] == 3
    assert access_clients(log, "run-0") == ["127.0.0.1"]


def test_trusted_proxies_are_checked_when_the_settings_load() -> None:
    settings = AppSettings(_env_file=None, trusted_proxies="10.0.0.0/8, ::1,192.0.2.7")
    assert settings.trusted_proxies == ["10.0.0.0/8", "::1", "192.0.2.7"]
    with pytest.raises(ValidationError, match=r"'proxy\.internal' is not an IP address or network"):
        AppSettings(_env_file=None, trusted_proxies="10.0.0.1,proxy.internal")


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.9", "203.0.113.9"),
        # What the client wrote itself, left of what the proxy appended, is ignored.
        ("192.0.2.66, 203.0.113.9", "203.0.113.9"),
        ("192.0.2.66, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
        # Proxies that write ports, and IPv6 in any spelling: one client, one address.
        ("203.0.113.9:4711", "203.0.113.9"),
        ("[2001:DB8:0::7]:443", "2001:db8::7"),
        ("2001:0db8::7", "2001:db8::7"),
        # Every hop a trusted proxy: the farthest is the best there is.
        ("10.9.9.9, 10.1.2.3", "10.9.9.9"),
        ("", "10.0.0.1"),
    ],
)
def test_forwarded_client_behind_trusted_proxies(forwarded_for: str, client: str) -> None:
    networks = parse_networks(["10.0.0.0/8"])
    assert forwarded_client("10.0.0.1", forwarded_for, networks) == client


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    networks = parse_networks(["10.0.0.0/8"])
    assert forwarded_client("198.51.100.1", "203.0.113.9", networks) == "198.51.100.1"
    assert forwarded_client("10.0.0.1", "203.0.113.9", ()) == "10.0.0.1"
