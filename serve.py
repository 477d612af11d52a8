"""Production serving: `make serve` (run `make migrate` first, once per deployment).

`python -m serve` runs uvicorn with `WEB_CONCURRENCY` worker processes (default: the CPU
count) on `HOST`:`PORT`, with uvicorn's proxy-header handling off (Larder believes
X-Forwarded-For/-Proto only from `TRUSTED_PROXIES`: shared/network.py), without a `Server`
header or uvicorn's access log (Larder logs each request itself), and on SIGTERM stops
accepting connections, gives requests in flight up to `GRACEFUL_SHUTDOWN_SECONDS` to finish,
and exits 0. In production, several workers without `REDIS_URL` refuse to start: each would
keep its own login and sign-up counts, so the limits would not hold.

Metrics are merged across workers through `PROMETHEUS_MULTIPROC_DIR`: a fresh temporary
directory, removed on exit, unless the operator names one (its stale files are cleared).
Migrations are not run here: workers never race each other to migrate. Serving refuses the
development SECRET_KEY, or one shorter than 32 bytes, whatever ENVIRONMENT says.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
from pathlib import Path

import uvicorn

from shared.logging import logging_config
from shared.settings import (
    AppSettings,
    RedisSettings,
    ServerSettings,
    get_app_settings,
    get_redis_settings,
    get_server_settings,
    weak_secret_key,
)

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir() -> tuple[Path, bool]:
    """The directory the workers share their metrics through, and whether we made it."""
    named = os.environ.get(MULTIPROC_DIR_ENV)
    if named:
        path = Path(named)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # figures of a previous run would be added in
            stale.unlink()
        return path, False
    path = Path(tempfile.mkdtemp(prefix="larder-metrics-"))
    os.environ[MULTIPROC_DIR_ENV] = str(path)
    return path, True


def refuse_weak_secret_key(app_settings: AppSettings) -> None:
    """Serving signs real users' tokens: never with the public development key or a short one,
    whatever ENVIRONMENT says (it defaults to `local`, where the development key is filled in)."""
    problem = weak_secret_key(app_settings.secret_key)
    if problem is not None:
        raise SystemExit(
            f"make serve: {problem}; set SECRET_KEY to a random value, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def refuse_unshared_limits(app: AppSettings, server: ServerSettings, redis: RedisSettings) -> None:
    """Stop (clear message, exit 1) where each worker would keep its own throttle counts."""
    if app.environment == "production" and server.web_concurrency > 1 and not redis.redis_url:
        raise SystemExit(
            f"Refusing to start {server.web_concurrency} workers without REDIS_URL in "
            "production: each worker would keep its own login and sign-up counts, so the "
            "limits would not hold. Set REDIS_URL, or WEB_CONCURRENCY=1."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve Larder with several worker processes.")
    parser.add_argument("--app", default="main:app", help="import string of the ASGI app")
    parser.add_argument("--factory", action="store_true", help="--app names an app factory")
    args = parser.parse_args()

    app_settings = get_app_settings()  # refuse weak production settings before serving
    refuse_weak_secret_key(app_settings)
    server = get_server_settings()
    refuse_unshared_limits(app_settings, server, get_redis_settings())
    metrics_dir, made_it = prepare_metrics_dir()
    # uvicorn re-raises the SIGTERM it handled once the drain is done; with this handler in
    # place that ends `uvicorn.run` instead of the process, so cleanup runs and we exit 0.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    try:
        uvicorn.run(
            args.app,
            factory=args.factory,
            host=server.host,
            port=server.port,
            workers=server.web_concurrency,
            # Larder decides who the client is itself, from TRUSTED_PROXIES (shared/network.py).
            proxy_headers=False,
            server_header=False,
            access_log=False,
            timeout_graceful_shutdown=server.graceful_shutdown_seconds,
            log_config=logging_config(app_settings.log_level, json_logs=app_settings.json_logs),
        )
    finally:
        if made_it:
            shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
