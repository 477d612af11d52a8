"""The recipe reads' direct routes (shared/direct.py) answer exactly as the FastAPI routes do.

Every request below is sent to the application with its direct routes and to one without them;
status, body and headers must be the same. The requests cover what a direct route answers
itself and what it declines to the FastAPI route (whose validation then explains the error).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from main import create_app
from shared.database import get_session
from shared.direct import DirectRoute, plain_int, query_params
from shared.pagination import encode_cursor
from tests.factories import make_recipe, make_user

# Headers that differ per request by design.
PER_REQUEST_HEADERS = {"x-request-id", "x-process-time", "date"}


class RouteRecorder:
    """Outermost middleware that keeps, per request, the route that answered it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes: list[object] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.routes.append(scope.get("route"))


@pytest.fixture
def clients(session: Session) -> Iterator[tuple[TestClient, TestClient, RouteRecorder]]:
    """A client of the app with direct routes, one of the app without, and the recorder of
    the first. Both read through the test's transaction."""

    def session_override() -> Iterator[Session]:
        yield session

    direct_app = create_app()
    recorder = RouteRecorder(direct_app.build_middleware_stack())
    direct_app.middleware_stack = recorder
    fastapi_app = create_app(direct_routes=False)
    apps: list[FastAPI] = [direct_app, fastapi_app]
    for app in apps:
        app.dependency_overrides[get_session] = session_override
    with (
        TestClient(direct_app, base_url="http://127.0.0.1") as direct,
        TestClient(fastapi_app, base_url="http://127.0.0.1") as plain,
    ):
        yield direct, plain, recorder


def assert_same_answer(direct: TestClient, plain: TestClient, url: str, **kwargs: object) -> int:
    ours = direct.get(url, **kwargs)  # type: ignore[arg-type]
    theirs = plain.get(url, **kwargs)  # type: ignore[arg-type]
    assert ours.status_code == theirs.status_code, url
    assert ours.content == theirs.content, url
    ours_headers = {k: v for k, v in ours.headers.items() if k not in PER_REQUEST_HEADERS}
    theirs_headers = {k: v for k, v in theirs.headers.items() if k not in PER_REQUEST_HEADERS}
    assert ours_headers == theirs_headers, url
    return ours.status_code


def test_answers_are_the_same_as_the_fastapi_routes(
    clients: tuple[TestClient, TestClient, RouteRecorder],
) -> None:
    direct, plain, recorder = clients
    owner = make_user()
    recipes = [make_recipe(label=f"Chicken dish {n}", submitter_id=owner.id) for n in range(25)]
    make_recipe(label="Crème brûlée, 100% sugar_free")
    first = recipes[0]
    cursor = encode_cursor(recipes[10].id or 0)
    answered_directly = [
        f"/api/v1/recipes/{first.id}",
        f"/api/v1/recipes/{first.id}?unknown=1",
        f"/api/v1/recipes/00{first.id}",
        "/api/v1/recipes/0",
        "/api/v1/recipes/999999",
        "/api/v1/recipes/",
        "/api/v1/recipes/?limit=5",
        "/api/v1/recipes/?limit=5&limit=7",
        f"/api/v1/recipes/?limit=5&cursor={cursor}",
        "/api/v1/recipes/?cursor=",
        "/api/v1/recipes/?cursor=not-a-cursor",
        f"/api/v1/recipes/?submitter_id={owner.id}&limit=3",
        "/api/v1/recipes/?submitter_id=0",
        "/api/v1/recipes/search/?keyword=chicken",
        "/api/v1/recipes/search/?keyword=CHICKEN&max_results=3",
        "/api/v1/recipes/search/?keyword=100%25",
        "/api/v1/recipes/search/?keyword=r_f",
        "/api/v1/recipes/search/?keyword=br%C3%BBl%C3%A9e",
        "/api/v1/recipes/search/?keyword=nothing-like-it",
    ]
    declined = [
        "/api/v1/recipes/abc",
        "/api/v1/recipes/-1",
        "/api/v1/recipes/99999999999",
        "/api/v1/recipes/?limit=0",
        "/api/v1/recipes/?limit=101",
        "/api/v1/recipes/?limit=abc",
        "/api/v1/recipes/?limit=",
        "/api/v1/recipes/?limit=%2B5",
        "/api/v1/recipes/?submitter_id=x",
        "/api/v1/recipes/?submitter_id=-3",
        "/api/v1/recipes/?cursor=" + "a" * 201,
        "/api/v1/recipes/search/",
        "/api/v1/recipes/search/?keyword=ab",
        "/api/v1/recipes/search/?keyword=" + "a" * 101,
        "/api/v1/recipes/search/?keyword=chicken&max_results=0",
        "/api/v1/recipes/search/?keyword=chicken&max_results=x",
    ]
    statuses = set()
    for url in answered_directly:
        statuses.add(assert_same_answer(direct, plain, url))
        assert isinstance(recorder.routes[-1], DirectRoute), url
    assert statuses == {200, 404, 422}

    for url in declined:
        assert_same_answer(direct, plain, url)
        assert not isinstance(recorder.routes[-1], DirectRoute), url


def test_if_none_match_gets_the_same_304(
    clients: tuple[TestClient, TestClient, RouteRecorder],
) -> None:
    direct, plain, recorder = clients
    recipe = make_recipe()
    etag = direct.get(f"/api/v1/recipes/{recipe.id}").headers["etag"]

    status = assert_same_answer(
        direct, plain, f"/api/v1/recipes/{recipe.id}", headers={"If-None-Match": f'"x", {etag}'}
    )

    assert status == 304
    assert isinstance(recorder.routes[-1], DirectRoute)


def test_direct_answers_are_labelled_with_the_route_template(
    clients: tuple[TestClient, TestClient, RouteRecorder],
) -> None:
    direct, _, recorder = clients
    recipe = make_recipe()

    labels = {"method": "GET", "route": "/api/v1/recipes/{recipe_id}", "status": "200"}
    before = REGISTRY.get_sample_value("larder_http_requests_total", labels) or 0.0

    direct.get(f"/api/v1/recipes/{recipe.id}")

    route = recorder.routes[-1]
    assert isinstance(route, DirectRoute)
    assert route.path_format == "/api/v1/recipes/{recipe_id}"
    assert REGISTRY.get_sample_value("larder_http_requests_total", labels) == before + 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), ("007", 7), ("100", 100), ("0", None), ("101", None), ("", None), (None, None),
     ("+7", None), (" 7", None), ("7.0", None), ("1_0", None), ("٣", None), ("9" * 11, None)],
)  # fmt: skip
def test_plain_int_takes_only_plain_digits_in_range(
    value: str | None, expected: int | None
) -> None:
    assert plain_int(value, low=1, high=100) == expected


def test_query_params_read_as_starlette_reads_them() -> None:
    scope = {"query_string": b"a=1&b=&a=2&c=caf%C3%A9&d=x+y"}

    assert query_params(scope) == {"a": "2", "b": "", "c": "café", "d": "x y"}
    assert query_params({"query_string": b""}) == {}
