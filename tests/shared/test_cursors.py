"""Hostile cursors: every route that reads one refuses it with a 4xx, never a 500.

A cursor is opaque to clients but not to attackers: it is base64 of JSON that the server decodes.
Each route that takes one is tried with the same table of malformed, out-of-range and oddly
typed cursors. The API answers FastAPI's 422 shape on the `cursor` parameter; the home page
answers a 400 page that says what happened.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from main import create_app
from shared.database import get_session
from shared.pagination import (
    MAX_CURSOR_ID,
    MAX_CURSOR_LENGTH,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
)
from tests.factories import make_recipe, make_user
from tests.helpers import bearer, login


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


HOSTILE_CURSORS = {
    "huge id": _b64(f"[1,{10**100}]"),
    "id just past 64 bits": _b64(f"[1,{2**63}]"),
    "negative id": _b64("[1,-5]"),
    "zero id": _b64("[1,0]"),
    "float id": _b64("[1,5.5]"),
    "whole float id": _b64("[1,5.0]"),
    "infinite id": _b64("[1,1e400]"),
    "NaN id": _b64("[1,NaN]"),
    "bool id": _b64("[1,true]"),
    "string id": _b64('[1,"5"]'),
    "nested list": _b64("[1,[5]]"),
    "deeply nested": _b64("[" * 70 + "]" * 70),
    "three items": _b64("[1,5,6]"),
    "object": _b64('{"version":1,"id":5}'),
    "wrong version": _b64("[2,5]"),
    "bool version": _b64("[true,5]"),
    "float version": _b64("[1.0,5]"),
    "null": _b64("null"),
    "bool": _b64("true"),
    "plain number": _b64("5"),
    "string": _b64('"ab"'),
    "not JSON": _b64("[1,5"),
    "not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe[1,5]").decode(),
    "not base64": "%%%",
    "base64 with junk inside": encode_cursor(5)[:3] + "!!" + encode_cursor(5)[3:],
    "truncated base64": "a",
    "unicode": "日本語カーソル",
    "NUL": "\x00",
    "very long": "A" * (MAX_CURSOR_LENGTH * 20),
}


@pytest.mark.parametrize("cursor", HOSTILE_CURSORS.values(), ids=HOSTILE_CURSORS.keys())
def test_decode_cursor_refuses_the_hostile_table(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_cursors_larder_makes_decode_to_their_id() -> None:
    for last_id in (1, 7, 2**31 - 1, MAX_CURSOR_ID):
        assert decode_cursor(encode_cursor(last_id)) == last_id
        # Padding, which encode_cursor strips, is accepted back.
        padded = encode_cursor(last_id) + "=" * (-len(encode_cursor(last_id)) % 4)
        assert decode_cursor(padded) == last_id
    assert decode_cursor(None) is None and decode_cursor("") is None


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    admin = make_user(email="cursor-admin@example.com", is_superuser=True)
    make_recipe(submitter_id=admin.id)  # so that my-recipes has something to list
    return bearer(login(client, "cursor-admin@example.com"))


@pytest.fixture
def fastapi_only_client(session: Session) -> Iterator[TestClient]:
    """The application without its direct routes: /api/v1/recipes/ answered by FastAPI."""
    app = create_app(direct_routes=False)

    def session_override() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_session] = session_override
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as client:
        yield client


API_ROUTES = ["/api/v1/recipes/", "/api/v1/recipes/my-recipes/", "/api/v1/users/"]


def _assert_cursor_refused(response_status: int, body: object, label: str) -> None:
    assert response_status == 422, label
    assert isinstance(body, dict), label
    (error,) = body["detail"]
    assert error["loc"] == ["query", "cursor"], label


@pytest.mark.parametrize("route", API_ROUTES)
def test_api_routes_refuse_hostile_cursors_with_422(
    client: TestClient,
    fastapi_only_client: TestClient,
    admin_headers: dict[str, str],
    route: str,
) -> None:
    make_recipe()
    for name, cursor in HOSTILE_CURSORS.items():
        for label, each in (("direct", client), ("fastapi", fastapi_only_client)):
            response = each.get(route, params={"cursor": cursor}, headers=admin_headers)
            _assert_cursor_refused(response.status_code, response.json(), f"{label} {name}")
            if name != "very long":  # FastAPI's own length check words it differently
                assert response.json()["detail"][0]["msg"] == "Invalid cursor", name


@pytest.mark.parametrize("route", API_ROUTES)
def test_a_cursor_past_every_id_starts_at_the_newest(
    client: TestClient, admin_headers: dict[str, str], route: str
) -> None:
    """The largest id a cursor may name is read as "below everything" on both databases."""
    make_recipe()
    for last_id in (2**31, MAX_CURSOR_ID):
        response = client.get(
            route, params={"cursor": encode_cursor(last_id)}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["results"]


def test_home_page_answers_hostile_cursors_with_a_400_page(client: TestClient) -> None:
    make_recipe(label="Still listed")
    for name, cursor in HOSTILE_CURSORS.items():
        response = client.get("/", params={"cursor": cursor})
        assert response.status_code == 400, name
        assert response.headers["content-type"].startswith("text/html"), name
        assert "That page link is not valid" in response.text, name
        assert "Still listed" in response.text, name


def test_home_page_reads_a_cursor_past_every_id_as_the_newest(client: TestClient) -> None:
    make_recipe(label="Newest of all")
    response = client.get("/", params={"cursor": encode_cursor(MAX_CURSOR_ID)})
    assert response.status_code == 200
    assert "Newest of all" in response.text
