"""The writes scenario: recipes created per second by 50 concurrent writers, each signed in.

Part of `make bench` (once per database, at the largest size). To run it by itself, on a fresh
10,000-row database per database: `uv run python -m bench.writes` (BENCH_DATABASES,
BENCH_SECONDS and BENCH_WARMUP_SECONDS apply).
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

from bench import fill
from bench.load import LoadResult, Request, run_load
from bench.login import PASSWORD, _post_json
from bench.servers import serve

WRITERS = 50
# Writers share sign-ins (each costs a password hash); each writer still writes on its own.
SIGN_INS = 10
ROWS = 10_000


@dataclass(frozen=True)
class WriteFigures:
    load: LoadResult
    seconds: float

    @property
    def creates_per_second(self) -> float:
        """Requests answered 201 per second (failed ones count as errors, not creates)."""
        return self.load.requests_per_second - self.load.errors / self.seconds


def _bearer_tokens(base_url: str, count: int) -> list[str]:
    email = f"writes-bench-{uuid.uuid4().hex[:8]}@example.com"
    if _post_json(f"{base_url}/api/v1/auth/signup", {"email": email, "password": PASSWORD}) != 201:
        raise RuntimeError("could not create the bench writer")
    form = urllib.parse.urlencode({"username": email, "password": PASSWORD}).encode()
    tokens = []
    for _ in range(count):
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{base_url}/api/v1/auth/login",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            tokens.append(json.loads(response.read())["access_token"])
    return tokens


def run_writes_bench(base_url: str, *, seconds: float, warmup: float, threads: int) -> WriteFigures:
    tokens = _bearer_tokens(base_url, SIGN_INS)
    requests = [
        Request(
            f"{base_url}/api/v1/recipes/",
            "POST",
            (("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")),
            json.dumps(
                {
                    "label": f"Bench writer {writer} stew",
                    "source": "Larder Bench Kitchen",
                    "url": f"https://example.com/bench/writer/{writer}",
                }
            ).encode(),
        )
        for writer, token in ((n, tokens[n % len(tokens)]) for n in range(WRITERS))
    ]
    run_load(requests, seconds=warmup, connections=WRITERS, threads=threads)
    load = run_load(requests, seconds=seconds, connections=WRITERS, threads=threads)
    return WriteFigures(load, seconds)


def report_lines(database: str, figures: WriteFigures) -> list[str]:
    load = figures.load
    return [
        f"- {database}: {figures.creates_per_second:,.0f} creates/s with {WRITERS} concurrent "
        f"writers (p50 {load.p50_ms:,.0f} ms, p99 {load.p99_ms:,.0f} ms, "
        f"{load.errors} failed)"
    ]


def main() -> None:
    from bench.run import DATABASE_URLS, SECONDS, THREADS, WARMUP

    lines: list[str] = []
    for database in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(","):
        url = DATABASE_URLS[database]
        fill.create_database(url)
        try:
            fill.grow(url, rows=ROWS)
            env = {"DATABASE_URL": url, "ENVIRONMENT": "local", "LOG_FORMAT": "json"}
            with serve("main:app", env=env, ready_path="/api/v1/recipes/?limit=1") as larder:
                figures = run_writes_bench(
                    larder.base_url, seconds=SECONDS, warmup=WARMUP, threads=THREADS
                )
            lines.extend(report_lines(f"{database}, {ROWS:,} rows", figures))
        finally:
            fill.drop_database(url)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
