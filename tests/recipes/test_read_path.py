"""The fast read routes answer exactly what the ORM and RecipePublic would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from recipes.reads import encode_recipe
from recipes.schemas import RecipePublic
from shared import reads
from tests.factories import make_recipe, make_user


def _public(session: Session, recipe_id: int | None) -> dict[str, object]:
    from recipes.models import Recipe

    session.expire_all()
    recipe = session.get(Recipe, recipe_id)
    return RecipePublic.model_validate(recipe).model_dump(mode="json")


def test_get_by_id_is_recipe_public(client: TestClient, session: Session) -> None:
    recipe = make_recipe(label="Smørrebrød « spécial »", source='The "Kitchen"')

    response = client.get(f"/api/v1/recipes/{recipe.id}")

    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache"
    assert response.json() == _public(session, recipe.id)
    assert response.json()["created_at"].endswith("Z")


def test_list_and_search_items_are_recipe_public(client: TestClient, session: Session) -> None:
    user = make_user()
    created = [make_recipe(label=f"Crème brûlée {n}", submitter_id=user.id) for n in range(3)]
    expected = [_public(session, recipe.id) for recipe in reversed(created)]

    page = client.get("/api/v1/recipes/", params={"submitter_id": user.id}).json()
    found = client.get("/api/v1/recipes/search/", params={"keyword": "CRÈME BRÛLÉE"}).json()

    assert page == {"results": expected, "next_cursor": None}
    assert found == {"results": expected}


def test_out_of_range_filters_and_cursors_are_empty_not_errors(client: TestClient) -> None:
    from shared.pagination import encode_cursor

    for submitter_id in (0, -1, 2**63):
        response = client.get("/api/v1/recipes/", params={"submitter_id": submitter_id})
        assert response.status_code == 200, submitter_id
        assert response.json() == {"results": [], "next_cursor": None}
    # A cursor may name any id a 64-bit integer holds; past the keys it means "below all".
    response = client.get("/api/v1/recipes/", params={"cursor": encode_cursor(2**63 - 1)})
    assert response.status_code == 200
    # Beyond that it was not made by Larder (tests/shared/test_cursors.py).
    response = client.get("/api/v1/recipes/", params={"cursor": encode_cursor(10**30)})
    assert response.status_code == 422


@pytest.fixture
def unpatched_client(app: FastAPI) -> Iterator[TestClient]:
    """A client whose reads go through the process's own reader, as in production."""
    reads._process_reader = None
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
    if isinstance(reads._process_reader, reads.SqliteReader):
        reads._process_reader.close()
    reads._process_reader = None


def test_the_production_reader_serves_the_read_routes(unpatched_client: TestClient) -> None:
    # Nothing committed is visible from the tests' rolled-back transactions; the shapes are.
    missing = unpatched_client.get("/api/v1/recipes/2000000000")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Recipe with ID 2000000000 not found"}
    for _ in range(7):  # past psycopg's prepare threshold
        page = unpatched_client.get("/api/v1/recipes/", params={"limit": 1})
        assert page.status_code == 200
        assert set(page.json()) == {"results", "next_cursor"}
    found = unpatched_client.get("/api/v1/recipes/search/", params={"keyword": "zzzqqq"})
    assert found.json() == {"results": []}


def test_each_event_loop_gets_its_own_reader(app: FastAPI, unpatched_client: TestClient) -> None:
    # Every TestClient runs its own event loop; asyncio locks and waits belong to one loop.
    assert unpatched_client.get("/api/v1/recipes/", params={"limit": 1}).status_code == 200
    with TestClient(app, base_url="http://127.0.0.1") as second:
        assert second.get("/api/v1/recipes/", params={"limit": 1}).status_code == 200
    assert unpatched_client.get("/api/v1/recipes/", params={"limit": 1}).status_code == 200


@pytest.mark.parametrize(
    "stored",
    ["2020-01-07 22:39:00.000000", "2020-01-07 22:39:00.120000", "1999-12-31 23:59:59.000001"],
)
def test_sqlite_timestamp_text_encodes_as_recipe_public_does(stored: str) -> None:
    from datetime import UTC, datetime

    from pydantic_core import to_json

    from recipes.reads import _utc_json

    aware = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    row = (1, "Soup", "Home", "https://example.com/soup", 7, stored, stored, 1)
    public = RecipePublic(
        id=1, label="Soup", source="Home", url="https://example.com/soup", submitter_id=7,
        created_at=aware, updated_at=aware,
    )  # fmt: skip
    assert to_json(_utc_json(stored)) == to_json(aware)
    assert encode_recipe(row) == public.model_dump_json().encode()
