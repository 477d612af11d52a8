"""What every response carries: request ids, timing, security headers, limits, errors, CORS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from main import create_app
from shared.settings import clear_settings_caches


def test_every_response_carries_ids_timing_and_security_headers(client: TestClient) -> None:
    for path in ("/api/v1/recipes/", "/api/v1/recipes/424242", "/", "/api/v1/openapi.json"):
        response = client.get(path)
        assert float(response.headers["x-process-time"]) >= 0
        assert len(response.headers["x-request-id"]) >= 16
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "server" not in response.headers


def test_production_over_https_asks_browsers_to_keep_to_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-key-" + "z" * 32)
    monkeypatch.setenv("FIRST_SUPERUSER_PASSWORD", "not-a-default-password")
    clear_settings_caches()
    production = create_app()

    for path in ("/health/live", "/api/v1/openapi.json", "/login"):
        https = TestClient(production, base_url="https://larder.example").get(path)
        http = TestClient(production, base_url="http://127.0.0.1").get(path)
        assert https.headers["strict-transport-security"] == "max-age=31536000", path
        assert "strict-transport-security" not in http.headers, path


def test_no_hsts_outside_production(app: FastAPI) -> None:
    # Local development over https (a tunnel, a self-signed proxy) must not pin the host.
    response = TestClient(app, base_url="https://127.0.0.1").get("/health/live")
    assert response.status_code == 200
    assert "strict-transport-security" not in response.headers


def test_api_json_is_not_stored_by_caches(client: TestClient) -> None:
    assert client.get("/api/v1/recipes/").headers["cache-control"] == "no-store"


def test_a_sane_caller_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/api/v1/recipes/", headers={"X-Request-ID": "abc-123.DEF_4"})
    assert response.headers["x-request-id"] == "abc-123.DEF_4"


@pytest.mark.parametrize("bad_id", ["x" * 65, "has space", "semi;colon", "<script>"])
def test_an_insane_request_id_is_replaced(client: TestClient, bad_id: str) -> None:
    response = client.get("/api/v1/recipes/", headers={"X-Request-ID": bad_id})
    assert response.headers["x-request-id"] != bad_id
    assert len(response.headers["x-request-id"]) == 32


def test_request_ids_differ_between_requests(client: TestClient) -> None:
    first = client.get("/api/v1/recipes/").headers["x-request-id"]
    second = client.get("/api/v1/recipes/").headers["x-request-id"]
    assert first != second


def test_bodies_over_one_mebibyte_are_413(client: TestClient) -> None:
    big = b"x" * (1024 * 1024 + 1)
    response = client.post(
        "/api/v1/recipes/", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body is larger than 1024 KiB"}


def test_streamed_bodies_over_the_limit_are_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536

    response = client.post(
        "/api/v1/recipes/search/", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (405, 413)


def test_unlisted_method_is_405(client: TestClient) -> None:
    response = client.delete("/api/v1/recipes/search/")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_unknown_route_is_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/recipes/{recipe_id}" in document["paths"]
    assert client.get("/docs").status_code == 200
    assert client.get("/redoc").status_code == 200


@pytest.fixture
def app_with_failing_route(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FastAPI]:
    monkeypatch.setenv("BACKEND_CORS_ORIGINS", "https://cook.example/, http://127.0.0.1:3000")
    clear_settings_caches()
    app = create_app()

    @app.get("/api/v1/explode")
    def explode() -> None:
        raise RuntimeError("secret internals at /srv/larder/db.py: password=hunter2")

    yield app
    clear_settings_caches()


def test_unexpected_errors_are_a_generic_500_naming_the_request_id(
    app_with_failing_route: FastAPI,
) -> None:
    with TestClient(app_with_failing_route, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/explode", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error (request id req-42)"}
    assert "hunter2" not in response.text and "/srv" not in response.text
    assert response.headers["x-request-id"] == "req-42"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_cors_preflight_for_configured_origins_only(app_with_failing_route: FastAPI) -> None:
    with TestClient(app_with_failing_route) as client:
        allowed = client.options(
            "/api/v1/recipes/",
            headers={
                "Origin": "https://cook.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type",
            },
        )
        refused = client.options(
            "/api/v1/recipes/",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        null_origin = client.get("/api/v1/recipes/424242", headers={"Origin": "null"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://cook.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in null_origin.headers


def test_error_responses_carry_cors_headers(app_with_failing_route: FastAPI) -> None:
    with TestClient(app_with_failing_route, raise_server_exceptions=False) as client:
        not_found = client.get("/api/v1/recipes/424242", headers={"Origin": "https://cook.example"})
        crashed = client.get("/api/v1/explode", headers={"Origin": "http://127.0.0.1:3000"})
    assert not_found.status_code == 404
    assert not_found.headers["access-control-allow-origin"] == "https://cook.example"
    assert crashed.status_code == 500
    assert crashed.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
