"""`make serve` for real: `python -m serve` worker processes on a loopback port; SIGTERM,
metrics merged across workers, concurrent writers, JSON logs and the generic 500, and no
workers that would each keep their own throttle counts in production."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, delete, func
from sqlmodel import Session, col, select

from recipes.models import Recipe
from serve import refuse_unshared_limits
from shared.settings import DEV_SECRET_KEY, AppSettings, RedisSettings, ServerSettings
from tests.helpers import LIVE_EMAIL_DOMAIN, live_email
from tests.redis_support import TEST_REDIS_URL
from tests.servers import ROOT, Server, free_port, run_server, server_env
from tests.slow_app import SECRET_IN_ERROR
from users.models import User

SERVE = [sys.executable, "-m", "serve"]
SLOW_APP = [*SERVE, "--factory", "--app", "tests.slow_app:make_app"]
PASSWORD = "a long enough password for tests"
RECIPE_ROUTE = "/api/v1/recipes/{recipe_id}"


# `make serve` refuses the development key whatever ENVIRONMENT says.
SERVING_SECRET_KEY = "a serving key for tests, long enough to sign with"


def serve_env(**overrides: str) -> dict[str, str]:
    settings = {
        "HOST": "127.0.0.1",
        "GRACEFUL_SHUTDOWN_SECONDS": "10",
        "SECRET_KEY": SERVING_SECRET_KEY,
        **overrides,
    }
    return server_env(**settings)


def production_env(**overrides: str) -> dict[str, str]:
    return serve_env(
        ENVIRONMENT="production",
        SECRET_KEY="x" * 48,
        FIRST_SUPERUSER_PASSWORD="not a default password at all",
        **overrides,
    )


@pytest.fixture
def live_users(engine: Engine) -> Iterator[None]:
    """Users (and by cascade their recipes) made through a server are deleted afterwards."""
    yield
    with Session(engine) as session:
        session.exec(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
        session.commit()


def sign_up_and_log_in(server: Server) -> tuple[int, dict[str, str]]:
    email = live_email()
    with server.client() as http:
        user = http.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
        assert user.status_code == 201, user.text
        tokens = http.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
    return user.json()["id"], {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def _stops_serving(base_url: str, within_seconds: float) -> bool:
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"{base_url}/health/live", timeout=0.5)
        except httpx2.TransportError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    ("secret_key", "complaint"),
    [
        (None, "must not be the development key"),
        (DEV_SECRET_KEY, "must not be the development key"),
        ("short-but-not-empty", "at least 32 bytes"),
    ],
)
def test_serving_refuses_the_development_key_whatever_the_environment(
    secret_key: str | None, complaint: str
) -> None:
    env = {key: value for key, value in serve_env().items() if key != "SECRET_KEY"}
    env.update(ENVIRONMENT="local", PORT=str(free_port()))
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    result = subprocess.run(  # noqa: S603 - a fixed command line
        SERVE, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert complaint in result.stderr
    assert "SECRET_KEY" in result.stderr
    # It stopped before serving anything.
    assert "Uvicorn running" not in result.stderr + result.stdout


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    engine: Engine, tmp_path: Path, workers: int
) -> None:
    marker = tmp_path / "slow-started"
    env = serve_env(WEB_CONCURRENCY=str(workers), SLOW_MARKER=str(marker))
    with run_server(command=SLOW_APP, env=env) as server:
        result: dict[str, Any] = {}

        def slow_request() -> None:
            response = httpx2.get(f"{server.base_url}/test/slow?seconds=3", timeout=10)
            result["status"] = response.status_code
            result["body"] = response.json()

        thread = threading.Thread(target=slow_request)
        thread.start()
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), "the slow request never reached the server"

        server.process.send_signal(signal.SIGTERM)
        # Draining: soon no new connection is served (a supervisor notices the signal within
        # half a second and passes it on to its workers)...
        assert _stops_serving(server.base_url, within_seconds=2.0)
        # ...but the request in flight completes.
        thread.join(timeout=10)
        assert result == {"status": 200, "body": {"slept": 3.0}}
        assert server.process.wait(timeout=15) == 0, server.log()


def _sample(text: str, name: str, route: str, status: int) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (sample.name, labels.get("method"), labels.get("route"), labels.get("status")) == (
                name,
                "GET",
                route,
                str(status),
            ):
                return float(sample.value)
    return 0.0


def test_metrics_count_every_worker_whichever_answers(engine: Engine, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    env = serve_env(WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    with run_server(command=SERVE, env=env) as server:
        sent = 0

        def missing_recipe(_: int) -> int:
            # A new connection each time, so the kernel hands them to either worker.
            status: int = httpx2.get(f"{server.base_url}/api/v1/recipes/999999999").status_code
            return status

        def worker_pids() -> set[str]:
            return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("*.db")}

        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(worker_pids()) < 2 and sent < 400:
                assert set(pool.map(missing_recipe, range(20))) == {404}
                sent += 20
        assert len(worker_pids()) == 2, "the requests never reached the second worker"

        for _ in range(4):  # whichever worker answers, it reports both workers' requests
            text = httpx2.get(f"{server.base_url}/metrics").text
            assert _sample(text, "larder_http_requests_total", RECIPE_ROUTE, 404) == sent
            assert (
                _sample(text, "larder_http_request_duration_seconds_count", RECIPE_ROUTE, 404)
                == sent
            )
        assert "999999999" not in text  # labelled by route template, never by raw path
        assert server.terminate() == 0


def test_fifty_concurrent_recipe_creations_all_succeed(engine: Engine, live_users: None) -> None:
    """Two worker processes, fifty writers at once: on SQLite too, nobody sees 'database is
    locked' and every row is there."""
    with run_server(command=SERVE, env=serve_env(WEB_CONCURRENCY="2")) as server:
        user_id, auth = sign_up_and_log_in(server)

        def create(n: int) -> int:
            response = httpx2.post(
                f"{server.base_url}/api/v1/recipes/",
                json={"label": f"Stew {n}", "source": "Tests", "url": f"https://e.com/{n}"},
                headers=auth,
                timeout=30,
            )
            status: int = response.status_code
            return status

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(create, range(50)))
        assert statuses == [201] * 50
        mine = httpx2.get(f"{server.base_url}/api/v1/recipes/my-recipes/?limit=100", headers=auth)
        assert sorted(r["label"] for r in mine.json()["results"]) == sorted(
            f"Stew {n}" for n in range(50)
        )
        log = server.log()
    with Session(engine) as session:
        count = session.exec(
            select(func.count()).select_from(Recipe).where(col(Recipe.submitter_id) == user_id)
        ).one()
    assert count == 50
    assert "database is locked" not in log


def test_production_logs_are_json_without_secrets_and_errors_are_generic(
    engine: Engine, live_users: None
) -> None:
    env = production_env(WEB_CONCURRENCY="1")
    with run_server(command=SLOW_APP, env=env) as server:
        _user_id, auth = sign_up_and_log_in(server)
        token = auth["Authorization"].removeprefix("Bearer ")
        with server.client() as http:
            assert http.get("/api/v1/auth/me", headers=auth).status_code == 200
            read = http.get("/api/v1/recipes/1", headers={"X-Request-ID": "read-1"})
            assert read.status_code in {200, 404}
            crashed = http.get("/test/boom", headers={"X-Request-ID": "boom-1"})
        assert server.terminate() == 0
        log = server.log()

    assert crashed.status_code == 500
    assert crashed.json() == {"detail": "Internal server error (request id boom-1)"}
    assert "hunter2" not in crashed.text and "secret.py" not in crashed.text

    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert all({"timestamp", "level", "logger", "message", "request_id"} <= set(e) for e in lines)
    (read,) = [e for e in lines if e.get("request_id") == "read-1" and "route" in e]
    assert read["route"] == RECIPE_ROUTE and read["path"] == "/api/v1/recipes/1"
    assert read["method"] == "GET" and read["status"] in {200, 404}
    assert read["client"] == "127.0.0.1" and read["duration_ms"] >= 0
    errors = [e for e in lines if e.get("request_id") == "boom-1" and e["level"] == "ERROR"]
    assert errors and "RuntimeError" in errors[0]["exception"]
    # Never a password, a token or a secret, even the one in the exception's message.
    for secret in (PASSWORD, token, "hunter2", "x" * 48):
        assert secret not in log
    assert SECRET_IN_ERROR not in log


def test_production_refuses_several_workers_without_redis() -> None:
    """Each worker would keep its own login and sign-up counts: the limits would not hold."""
    result = subprocess.run(  # noqa: S603 - a fixed command line
        SERVE,
        cwd=ROOT,
        env=production_env(WEB_CONCURRENCY="2"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Refusing to start 2 workers without REDIS_URL in production" in result.stderr
    assert "Set REDIS_URL, or WEB_CONCURRENCY=1." in result.stderr


def test_one_worker_shared_counts_or_a_local_run_may_start() -> None:
    production = AppSettings(
        _env_file=None,
        environment="production",
        secret_key="x" * 48,
        first_superuser_password="not a default password at all",
    )
    two = ServerSettings(_env_file=None, web_concurrency=2)
    one = ServerSettings(_env_file=None, web_concurrency=1)
    redis = RedisSettings(_env_file=None, redis_url=TEST_REDIS_URL)
    no_redis = RedisSettings(_env_file=None, redis_url=None)
    refuse_unshared_limits(production, two, redis)
    refuse_unshared_limits(production, one, no_redis)
    refuse_unshared_limits(AppSettings(_env_file=None, environment="local"), two, no_redis)
    with pytest.raises(SystemExit):
        refuse_unshared_limits(production, two, no_redis)
