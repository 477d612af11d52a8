"""Benchmark of the ideas feature against a fake Reddit that takes 200 ms per subreddit.

Measures, all on 127.0.0.1:
- cold-cache latency of GET /api/v1/ideas/ (target: at most 1.3x one subreddit's delay, which
  only concurrent fetching can meet), over a few cold cache keys;
- warm-cache requests/s (target: at least 50% of a FastAPI hello-world served the same way).

Larder and the hello-world each run in their own uvicorn process (one worker); load comes from
wrk when installed (2 threads, 32 connections), else from a Python loop. Sign-in is replaced by a
fixed user, so the figures are the ideas path itself, not token checks.

    uv run python -m bench.ideas            # prints the figures
    run_ideas_bench() -> IdeasBenchResult   # for the main benchmark
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IDEAS_PATH = "/api/v1/ideas/"
COLD_LATENCY_TARGET = 1.3
WARM_RATIO_TARGET = 0.5


@dataclass(frozen=True)
class IdeasBenchResult:
    upstream_delay_s: float
    cold_latencies_s: list[float]
    warm_rps: float
    hello_rps: float
    load_tool: str

    @property
    def cold_median_s(self) -> float:
        return statistics.median(self.cold_latencies_s)

    @property
    def cold_ratio(self) -> float:
        """Median cold-cache latency over the upstream delay.

        The first sample also pays the process's one-time costs (the first connections to the
        upstream); it is reported, but the median is what the target is held to.
        """
        return self.cold_median_s / self.upstream_delay_s

    @property
    def first_ratio(self) -> float:
        return self.cold_latencies_s[0] / self.upstream_delay_s

    @property
    def warm_ratio(self) -> float:
        return self.warm_rps / self.hello_rps

    @property
    def passed(self) -> bool:
        return self.cold_ratio <= COLD_LATENCY_TARGET and self.warm_ratio >= WARM_RATIO_TARGET

    def report(self) -> str:
        cold = ", ".join(f"{s * 1000:.0f}" for s in self.cold_latencies_s)
        return "\n".join(
            [
                f"ideas bench (upstream {self.upstream_delay_s * 1000:.0f} ms per subreddit, "
                f"load by {self.load_tool})",
                f"  cold-cache latency ms: {cold}; median / upstream delay = "
                f"{self.cold_ratio:.2f}x (target <= {COLD_LATENCY_TARGET}x); first request "
                f"after start {self.first_ratio:.2f}x",
                f"  warm-cache req/s: {self.warm_rps:,.0f}; hello-world req/s: "
                f"{self.hello_rps:,.0f}; ratio {self.warm_ratio:.2f} "
                f"(target >= {WARM_RATIO_TARGET})",
                f"  {'PASS' if self.passed else 'FAIL'}",
            ]
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(kind: str, env: dict[str, str]) -> Iterator[str]:
    """Runs `python -m bench.ideas --serve KIND` on a free loopback port; yields its URL."""
    port = _free_port()
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    log = open(os.path.join(ROOT, "bench", "out", f"ideas-{kind}.log"), "wb")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "bench.ideas", "--serve", kind, "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/bench-probe", timeout=1)  # any answer (404) means serving
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {kind} server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wrk(url: str, seconds: float) -> float:
    wrk = shutil.which("wrk")
    assert wrk is not None  # noqa: S101
    result = subprocess.run(  # noqa: S603
        [wrk, "-t2", "-c32", f"-d{max(1, round(seconds))}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    )
    if "Non-2xx" in result.stdout:
        raise RuntimeError(f"wrk saw error responses from {url}:\n{result.stdout}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{result.stdout}")
    return float(match.group(1))


async def _python_load(url: str, seconds: float, connections: int = 32) -> float:
    done = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                response = await client.get(url)
                response.raise_for_status()
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        return done / (time.monotonic() - started)


def _requests_per_second(url: str, *, warmup: float, duration: float) -> tuple[float, str]:
    if shutil.which("wrk"):
        _wrk(url, warmup)
        return _wrk(url, duration), "wrk -t2 -c32"
    asyncio.run(_python_load(url, warmup))
    return asyncio.run(_python_load(url, duration)), "a Python loop, 32 connections"


def run_ideas_bench(
    *, delay: float = 0.2, warmup: float = 2.0, duration: float = 5.0, cold_samples: int = 5
) -> IdeasBenchResult:
    """Start a fake Reddit, Larder and a hello-world; measure; stop them all."""
    from tests.reddit.fake_reddit import serve_fake_reddit

    with (
        tempfile.TemporaryDirectory(prefix="larder-bench-") as scratch,
        serve_fake_reddit() as (fake, reddit_url),
    ):
        fake.behave_all(delay=delay)
        env = {
            "REDDIT_BASE_URL": reddit_url,
            "REDDIT_SUBREDDITS": "recipes,easyrecipes,TopSecretRecipes",
            "REDDIT_TIMEOUT_SECONDS": "5",
            "REDDIT_CACHE_TTL_SECONDS": "300",
            "DATABASE_URL": f"sqlite:///{scratch}/bench.db",
            "ENVIRONMENT": "local",
            # Production's logging: the access line costs every request something.
            "LOG_FORMAT": "json",
            "REDIS_URL": "",
        }
        with _server("larder", env) as larder_url:
            cold = []
            # Each limit is its own cache key, so each of these requests starts cold.
            for limit in range(1, cold_samples + 1):
                started = time.perf_counter()
                response = httpx.get(f"{larder_url}{IDEAS_PATH}?limit={limit}", timeout=10)
                cold.append(time.perf_counter() - started)
                response.raise_for_status()
                if response.json()["errors"]:
                    raise RuntimeError(f"upstream errors: {response.json()['errors']}")
            warm_url = f"{larder_url}{IDEAS_PATH}?limit=5"
            httpx.get(warm_url, timeout=10).raise_for_status()
            upstream_calls = len(fake.requests)
            warm_rps, tool = _requests_per_second(warm_url, warmup=warmup, duration=duration)
            if len(fake.requests) != upstream_calls:
                raise RuntimeError("warm-cache requests reached the upstream")
        with _server("hello", {}) as hello_url:
            hello_rps, _ = _requests_per_second(hello_url + "/", warmup=warmup, duration=duration)
    return IdeasBenchResult(
        upstream_delay_s=delay,
        cold_latencies_s=cold,
        warm_rps=warm_rps,
        hello_rps=hello_rps,
        load_tool=tool,
    )


def _larder_signed_in_as_a_fixed_user() -> Any:
    """Larder whose CurrentUser is a fixed user, without app.dependency_overrides.

    While any override is set, FastAPI rebuilds every sub-dependency of a route on every
    request, which would then be what this measures. Instead the `CurrentUser` alias is
    replaced before the routers are imported (this runs in a fresh process).
    """
    import sys
    from typing import Annotated

    from fastapi import Depends

    import auth.dependencies
    from users.models import User

    if "reddit.router" in sys.modules:
        raise RuntimeError("the routers were imported before sign-in could be replaced")
    bench_user = User(id=1, email="bench@example.com", is_active=True)

    async def fixed_user() -> User:
        return bench_user

    auth.dependencies.CurrentUser = Annotated[User, Depends(fixed_user)]  # type: ignore[assignment]
    from main import create_app

    return create_app()


def _serve(kind: str, port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    if kind == "hello":
        app = FastAPI()

        @app.get("/")
        async def hello() -> dict[str, str]:
            return {"message": "Hello World"}

    else:
        app = _larder_signed_in_as_a_fixed_user()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", choices=["larder", "hello"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.2, help="upstream delay, seconds")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per app")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per app")
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port)
        return
    result = run_ideas_bench(delay=args.delay, warmup=args.warmup, duration=args.duration)
    print(result.report())
    sys.exit(0 if result.passed else 1)


if __name__ == "__main__":
    main()
