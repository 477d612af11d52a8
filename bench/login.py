"""The login scenario: how close logins come to raw argon2, and whether they stall reads.

- Raw argon2id verifications per second, in this process, with as many threads as the server
  hashes at once (PASSWORD_HASH_CONCURRENCY: the CPU count less one) and the same profile: the
  ceiling.
- Logins per second against the running Larder (wrk posting the login form): the overhead of
  everything around the hash (form parsing, the user lookup, the session row, the JWT) is
  1 - logins/verifications; the target is under 10%.
- The p99 of GET /api/v1/recipes/{id} alone, then while logins run flat out: hashing runs in
  worker threads, so reads should keep flowing (target: within 3x).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.low_level import Type

from auth.settings import AuthSettings
from bench.load import LoadResult, Request, run_load

PASSWORD = "bench password for logins"  # noqa: S105 - a throwaway bench account
LOGIN_CONNECTIONS = 8


@dataclass(frozen=True)
class LoginFigures:
    raw_verifications_per_second: float
    logins: LoadResult
    reads_alone: LoadResult
    reads_during_logins: LoadResult

    @property
    def overhead(self) -> float:
        return 1 - self.logins.requests_per_second / self.raw_verifications_per_second

    @property
    def p99_ratio(self) -> float:
        return self.reads_during_logins.p99_ms / self.reads_alone.p99_ms


def raw_verifications_per_second(seconds: float) -> float:
    """argon2id verifications per second with Larder's default profile and hash concurrency."""
    settings = AuthSettings(_env_file=None)
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    hashed = hasher.hash(PASSWORD)
    threads = settings.password_hash_concurrency
    deadline = time.monotonic() + seconds

    def verify_until_deadline() -> int:
        done = 0
        while time.monotonic() < deadline:
            hasher.verify(hashed, PASSWORD)  # argon2-cffi releases the GIL while hashing
            done += 1
        return done

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        total = sum(pool.map(lambda _: verify_until_deadline(), range(threads)))
    return total / (time.monotonic() - started)


def _post_json(url: str, payload: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        status: int = response.status
        return status


def run_login_bench(
    base_url: str, read_path: str, *, seconds: float, warmup: float, connections: int, threads: int
) -> LoginFigures:
    email = f"login-bench-{uuid.uuid4().hex[:8]}@example.com"
    if _post_json(f"{base_url}/api/v1/auth/signup", {"email": email, "password": PASSWORD}) != 201:
        raise RuntimeError("could not create the bench user")
    form = urllib.parse.urlencode({"username": email, "password": PASSWORD}).encode()
    login = Request(
        f"{base_url}/api/v1/auth/login",
        "POST",
        (("Content-Type", "application/x-www-form-urlencoded"),),
        form,
    )
    read = Request(base_url + read_path)

    raw = raw_verifications_per_second(seconds)
    run_load(login, seconds=warmup, connections=LOGIN_CONNECTIONS, threads=1)
    logins = run_load(login, seconds=seconds, connections=LOGIN_CONNECTIONS, threads=1)
    if logins.errors:
        raise RuntimeError(f"{logins.errors} logins failed under load")

    run_load(read, seconds=warmup, connections=connections, threads=threads)
    alone = run_load(read, seconds=seconds, connections=connections, threads=threads)
    # Logins flat out in the background for longer than the measured reads.
    background = threading.Thread(
        target=run_load,
        args=(login,),
        kwargs={"seconds": seconds + 2, "connections": LOGIN_CONNECTIONS, "threads": 1},
    )
    background.start()
    time.sleep(1)
    during = run_load(read, seconds=seconds, connections=connections, threads=threads)
    background.join()
    return LoginFigures(raw, logins, alone, during)


def report_lines(database: str, figures: LoginFigures) -> list[str]:
    hash_threads = AuthSettings(_env_file=None).password_hash_concurrency
    overhead_verdict = "met" if figures.overhead < 0.10 else "MISSED"
    stall_verdict = "met" if figures.p99_ratio <= 3 else "MISSED"
    return [
        f"- {database}: raw argon2id {figures.raw_verifications_per_second:,.1f} verifications/s "
        f"({hash_threads} threads); logins {figures.logins.requests_per_second:,.1f}/s "
        f"(p99 {figures.logins.p99_ms:,.0f} ms): overhead {figures.overhead:.0%} "
        f"(target under 10%: {overhead_verdict})",
        f"- {database}: GET recipe p99 {figures.reads_alone.p99_ms:,.1f} ms alone, "
        f"{figures.reads_during_logins.p99_ms:,.1f} ms while logins run flat out "
        f"({figures.p99_ratio:.1f}x; target within 3x: {stall_verdict}); "
        f"req/s {figures.reads_alone.requests_per_second:,.0f} -> "
        f"{figures.reads_during_logins.requests_per_second:,.0f}",
    ]
