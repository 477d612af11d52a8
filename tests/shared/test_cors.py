"""Larder's CORS middleware answers exactly as Starlette's, which it speeds up for requests
without an Origin header."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from shared.middleware import CORSMiddleware

POLICY = {
    "allow_origins": ["https://cook.example"],
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["Authorization", "Content-Type"],
    "expose_headers": ["ETag", "X-Request-ID"],
    "max_age": 600,
}


def plain(_: Request) -> Response:
    return PlainTextResponse("plain")


def varied(_: Request) -> Response:
    return PlainTextResponse("varied", headers={"Vary": "Accept-Encoding"})


def client_with(middleware: type[StarletteCORSMiddleware], **policy: Any) -> TestClient:
    app = Starlette(
        routes=[Route("/plain", plain, methods=["GET", "POST"]), Route("/varied", varied)]
    )
    return TestClient(middleware(app, **policy))


PREFLIGHT = "Access-Control-Request-Method"
REQUESTS = [
    ("GET", "/plain", {}),
    ("GET", "/varied", {}),
    ("POST", "/plain", {}),
    ("GET", "/plain", {"Origin": "https://cook.example"}),
    ("GET", "/varied", {"Origin": "https://cook.example"}),
    ("GET", "/plain", {"Origin": "https://evil.example"}),
    ("OPTIONS", "/plain", {"Origin": "https://cook.example", PREFLIGHT: "POST"}),
    ("OPTIONS", "/plain", {"Origin": "https://evil.example", PREFLIGHT: "GET"}),
    ("OPTIONS", "/plain", {"Origin": "https://cook.example", PREFLIGHT: "PUT"}),
    ("OPTIONS", "/plain", {}),
]  # fmt: skip


@pytest.mark.parametrize("policy", [POLICY, {**POLICY, "allow_origins": ["*"]},
                                    {**POLICY, "allow_credentials": True}])  # fmt: skip
@pytest.mark.parametrize(("method", "path", "headers"), REQUESTS)
def test_answers_as_starlettes_cors_does(
    policy: dict[str, Any], method: str, path: str, headers: dict[str, str]
) -> None:
    ours = client_with(CORSMiddleware, **policy).request(method, path, headers=headers)
    theirs = client_with(StarletteCORSMiddleware, **policy).request(method, path, headers=headers)

    assert ours.status_code == theirs.status_code
    assert ours.content == theirs.content
    assert sorted(ours.headers.multi_items()) == sorted(theirs.headers.multi_items())


def test_a_request_without_origin_varies_on_origin() -> None:
    response = client_with(CORSMiddleware, **POLICY).get("/varied")

    assert response.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    assert "access-control-allow-origin" not in response.headers
