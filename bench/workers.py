"""Benchmark: requests/s of GET /api/v1/recipes/{id} with one worker process and with two.

Serves Larder the way `make serve` does (`python -m serve`, WEB_CONCURRENCY workers) against a
filled PostgreSQL database on 127.0.0.1, drives it with wrk (2 threads, 32 connections; a
bounded Python loop when wrk is missing), and prints each figure and the ratio (target: two
workers at least 1.6x one on a 2-core machine). `--server gunicorn` serves through gunicorn
with uvicorn workers instead, for comparison (needs `gunicorn` and `uvicorn-worker`:
`uv run --with gunicorn --with uvicorn-worker python -m bench.workers --server gunicorn`).

    uv run python -m bench.workers [--seconds 10] [--recipes 1000]

BENCH_DATABASE_URL names the database (default: postgresql://postgres@127.0.0.1:5432/
larder_bench_workers, created when missing); it is migrated and filled, never emptied.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx2
from sqlalchemy import create_engine, text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/larder_bench_workers"
TARGET_RATIO = 1.6
PORT = 8611


def prepare_database(url: str, recipes: int) -> int:
    """Create, migrate and fill the database; returns a recipe id to fetch."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(("postgresql+psycopg", parts.netloc, "/postgres", "", ""))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "prestart"], cwd=ROOT, env=env, check=True)
    engine = create_engine(urlunsplit(("postgresql+psycopg", *tuple(parts)[1:])))
    with engine.begin() as connection:
        count = connection.execute(text("SELECT count(*) FROM recipe")).scalar_one()
        submitter = connection.execute(text('SELECT min(id) FROM "user"')).scalar_one()
        if count < recipes:
            connection.execute(
                text(
                    "INSERT INTO recipe"
                    " (label, label_folded, source, url, submitter_id, created_at, updated_at,"
                    " version)"
                    " SELECT 'Bench recipe ' || n, 'bench recipe ' || n, 'Bench',"
                    " 'https://example.com/' || n, :s, now(), now(), 1"
                    " FROM generate_series(1, :n) AS n"
                ),
                {"s": submitter, "n": recipes - count},
            )
        recipe_id = connection.execute(text("SELECT max(id) FROM recipe")).scalar_one()
    engine.dispose()
    return int(recipe_id)


@contextmanager
def serving(server: str, workers: int, url: str) -> Iterator[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(PORT),
        "WEB_CONCURRENCY": str(workers),
        # Production's logging (make serve's defaults): the access line is part of the cost.
        "LOG_FORMAT": "json",
        # `make serve` refuses the development key.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
    }
    if server == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", "main:app", "-k", "uvicorn_worker.UvicornWorker",
            "-w", str(workers), "-b", f"127.0.0.1:{PORT}",
        ]  # fmt: skip
    else:
        command = [sys.executable, "-m", "serve"]
    os.makedirs(os.path.join(ROOT, "bench", "out"), exist_ok=True)
    log = open(os.path.join(ROOT, "bench", "out", f"workers-{workers}.log"), "wb")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def requests_per_second(url: str, seconds: float) -> float:
    wrk = shutil.which("wrk")
    if wrk:
        subprocess.run([wrk, "-t2", "-c32", "-d3s", url], capture_output=True, check=True)  # noqa: S603
        out = subprocess.run(  # noqa: S603
            [wrk, "-t2", "-c32", f"-d{round(seconds)}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if "Non-2xx" in out:
            raise RuntimeError(f"errors under load:\n{out}")
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        assert match is not None, out  # noqa: S101
        return float(match.group(1))
    done, end = 0, time.monotonic() + seconds  # bounded fallback, one connection
    with httpx2.Client() as client:
        while time.monotonic() < end:
            client.get(url).raise_for_status()
            done += 1
    return done / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", choices=["uvicorn", "gunicorn"], default="uvicorn")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--recipes", type=int, default=1000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recipe_id = prepare_database(url, args.recipes)
    figures = {}
    for workers in (1, 2):
        with serving(args.server, workers, url) as base:
            figures[workers] = requests_per_second(
                f"{base}/api/v1/recipes/{recipe_id}", args.seconds
            )
        print(f"{args.server} {workers} worker(s): {figures[workers]:,.0f} req/s", flush=True)
    ratio = figures[2] / figures[1]
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"2 workers / 1 worker: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")


if __name__ == "__main__":
    main()
