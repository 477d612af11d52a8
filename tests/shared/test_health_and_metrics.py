"""Health routes and the Prometheus endpoint, in process."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from shared import health
from shared.settings import clear_settings_caches

RECIPE_ROUTE = "/api/v1/recipes/{recipe_id}"


def _requests(route: str, status: int, method: str = "GET") -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("larder_http_requests_total", labels) or 0.0


def test_live_is_200(client: TestClient) -> None:
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_the_database_is_at_the_latest_migration(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "ok",
        "redis": "not configured",
    }


def test_not_ready_when_the_schema_is_behind(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A release whose scripts have a newer head than the database: it must not take traffic.
    monkeypatch.setattr(health, "migration_head", lambda: "a_revision_not_applied_yet")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["migrations"] == "behind"


@pytest.mark.parametrize(
    ("redis_url", "expected_status", "expected_redis"),
    [("redis://127.0.0.1:6379/0", 200, "ok"), ("redis://127.0.0.1:1/0", 503, "unavailable")],
)
def test_ready_checks_redis_when_configured(
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    expected_status: int,
    expected_redis: str,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", f"larder-test-{uuid.uuid4().hex}:")
    clear_settings_caches()
    with TestClient(app) as client:
        response = client.get("/health/ready")
    assert response.status_code == expected_status
    assert response.json()["redis"] == expected_redis


def test_metrics_count_requests_by_route_template_method_and_status(client: TestClient) -> None:
    before_404 = _requests(RECIPE_ROUTE, 404)
    before_unmatched = _requests("unmatched", 404)
    before_health = _requests("/health/live", 200)
    client.get("/api/v1/recipes/987654321")
    client.get("/api/v1/recipes/987654322")
    client.get("/no/such/page/123")
    client.get("/health/live")
    assert _requests(RECIPE_ROUTE, 404) == before_404 + 2
    assert _requests("unmatched", 404) == before_unmatched + 1
    assert _requests("/health/live", 200) == before_health + 1

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE larder_http_requests_total counter" in text
    assert "# TYPE larder_http_request_duration_seconds histogram" in text
    assert f'route="{RECIPE_ROUTE}"' in text
    assert "987654321" not in text  # never raw paths
    assert "/metrics" not in client.get("/api/v1/openapi.json").text


def test_a_405_is_labelled_with_the_route_it_partly_matched(client: TestClient) -> None:
    before = _requests(RECIPE_ROUTE, 405, method="POST")
    assert client.post("/api/v1/recipes/1").status_code == 405
    assert _requests(RECIPE_ROUTE, 405, method="POST") == before + 1
