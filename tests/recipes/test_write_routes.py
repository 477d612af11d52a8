"""Recipe writes: create, the tutorial's PUT, PATCH with If-Match, DELETE, ownership."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from recipes.models import Recipe
from tests.factories import make_recipe, make_user
from tests.helpers import bearer, live_email, login, signup
from users.models import User

NEW_RECIPE = {
    "label": "  Chicken Paprikash ",
    "source": "No Recipes",
    "url": "http://norecipes.com/recipe/chicken-paprikash/",
}


@pytest.fixture
def owner(client: TestClient) -> tuple[User, dict[str, Any]]:
    user = make_user(email="owner@example.com")
    return user, login(client, "owner@example.com")


@pytest.fixture
def stranger(client: TestClient) -> dict[str, Any]:
    make_user(email="stranger@example.com")
    return login(client, "stranger@example.com")


def test_create_recipe(client: TestClient, owner: tuple[User, dict[str, Any]]) -> None:
    user, tokens = owner
    response = client.post(
        "/api/v1/recipes/",
        json={**NEW_RECIPE, "id": 5, "created_at": "2000-01-01T00:00:00Z", "rating": 5},
        headers=bearer(tokens),
    )

    assert response.status_code == 201
    body = response.json()
    assert body["label"] == "Chicken Paprikash"
    assert body["submitter_id"] == user.id
    assert not body["created_at"].startswith("2000")
    assert response.headers["location"] == f"/api/v1/recipes/{body['id']}"
    assert response.headers["etag"]
    fetched = client.get(response.headers["location"])
    assert fetched.json() == body


def test_create_needs_a_token_with_the_write_scope(client: TestClient) -> None:
    assert client.post("/api/v1/recipes/", json=NEW_RECIPE).status_code == 401
    make_user(email="reader@example.com")
    no_scope = login(client, "reader@example.com", scope="nothing-real")
    response = client.post("/api/v1/recipes/", json=NEW_RECIPE, headers=bearer(no_scope))
    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}


def test_submitting_as_someone_else_is_403(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    _, tokens = owner
    other = make_user()
    response = client.post(
        "/api/v1/recipes/", json={**NEW_RECIPE, "submitter_id": other.id}, headers=bearer(tokens)
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "You can only submit recipes as yourself"}


def test_submitting_as_yourself_explicitly_is_fine(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    user, tokens = owner
    response = client.post(
        "/api/v1/recipes/", json={**NEW_RECIPE, "submitter_id": user.id}, headers=bearer(tokens)
    )
    assert response.status_code == 201


def test_an_admin_may_submit_for_another_user(client: TestClient) -> None:
    make_user(email="boss@example.com", is_superuser=True)
    tokens = login(client, "boss@example.com")
    other = make_user()
    response = client.post(
        "/api/v1/recipes/", json={**NEW_RECIPE, "submitter_id": other.id}, headers=bearer(tokens)
    )
    assert response.status_code == 201
    assert response.json()["submitter_id"] == other.id
    unknown = client.post(
        "/api/v1/recipes/", json={**NEW_RECIPE, "submitter_id": 99999999}, headers=bearer(tokens)
    )
    assert unknown.status_code == 422


@pytest.mark.parametrize(
    "changes",
    [
        {"label": ""},
        {"label": "   "},
        {"label": "x" * 257},
        {"source": ""},
        {"url": "not a url"},
        {"url": "javascript:alert(1)"},
        {"url": "ftp://example.com/file"},
        {"url": "https://example.com/" + "a" * 2048},
    ],
)
def test_invalid_recipes_are_422(
    client: TestClient, owner: tuple[User, dict[str, Any]], changes: dict[str, str]
) -> None:
    _, tokens = owner
    response = client.post(
        "/api/v1/recipes/", json={**NEW_RECIPE, **changes}, headers=bearer(tokens)
    )
    assert response.status_code == 422


def test_put_updates_the_label_the_tutorial_way(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    user, tokens = owner
    recipe = make_recipe(submitter_id=user.id, label="Old label")
    before = client.get(f"/api/v1/recipes/{recipe.id}").json()

    response = client.put(
        "/api/v1/recipes/", json={"id": recipe.id, "label": "New label"}, headers=bearer(tokens)
    )

    assert response.status_code == 200
    body = response.json()
    assert body["label"] == "New label"
    assert body["source"] == before["source"]
    assert body["updated_at"] > before["updated_at"]
    assert body["created_at"] == before["created_at"]


def test_put_unknown_id_is_404(client: TestClient, owner: tuple[User, dict[str, Any]]) -> None:
    _, tokens = owner
    response = client.put(
        "/api/v1/recipes/", json={"id": 7777777, "label": "x"}, headers=bearer(tokens)
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Recipe with ID 7777777 not found"}


def test_other_users_cannot_change_or_delete(
    client: TestClient, owner: tuple[User, dict[str, Any]], stranger: dict[str, Any]
) -> None:
    user, _ = owner
    recipe = make_recipe(submitter_id=user.id, label="Mine")
    before = client.get(f"/api/v1/recipes/{recipe.id}").json()

    put = client.put(
        "/api/v1/recipes/", json={"id": recipe.id, "label": "Stolen"}, headers=bearer(stranger)
    )
    patch = client.patch(
        f"/api/v1/recipes/{recipe.id}", json={"label": "Stolen"}, headers=bearer(stranger)
    )
    delete = client.delete(f"/api/v1/recipes/{recipe.id}", headers=bearer(stranger))

    assert put.status_code == patch.status_code == 403
    assert put.json() == patch.json() == {"detail": "You can only update your recipes."}
    assert delete.status_code == 403
    assert delete.json() == {"detail": "You can only delete your recipes."}
    assert client.get(f"/api/v1/recipes/{recipe.id}").json() == before


def test_an_admin_may_change_and_delete_any_recipe(client: TestClient) -> None:
    make_user(email="boss@example.com", is_superuser=True)
    tokens = login(client, "boss@example.com")
    recipe = make_recipe()
    patched = client.patch(
        f"/api/v1/recipes/{recipe.id}", json={"label": "Moderated"}, headers=bearer(tokens)
    )
    assert patched.status_code == 200
    assert patched.json()["label"] == "Moderated"
    assert client.delete(f"/api/v1/recipes/{recipe.id}", headers=bearer(tokens)).status_code == 204


def test_a_superuser_without_admin_scope_is_an_ordinary_user(client: TestClient) -> None:
    make_user(email="modest@example.com", is_superuser=True)
    tokens = login(client, "modest@example.com", scope="recipes:write")
    recipe = make_recipe()
    response = client.patch(
        f"/api/v1/recipes/{recipe.id}", json={"label": "Nope"}, headers=bearer(tokens)
    )
    assert response.status_code == 403


def test_patch_changes_only_what_is_sent_and_returns_a_new_etag(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    user, tokens = owner
    recipe = make_recipe(submitter_id=user.id, label="Before", source="Kept")
    etag = client.get(f"/api/v1/recipes/{recipe.id}").headers["etag"]

    response = client.patch(
        f"/api/v1/recipes/{recipe.id}",
        json={"label": "After", "submitter_id": 12345, "id": 1},
        headers={**bearer(tokens), "If-Match": etag},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["label"] == "After"
    assert body["source"] == "Kept"
    assert body["submitter_id"] == user.id
    assert body["id"] == recipe.id
    assert response.headers["etag"] != etag
    assert client.get(f"/api/v1/recipes/{recipe.id}").headers["etag"] == response.headers["etag"]


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    user, tokens = owner
    recipe = make_recipe(submitter_id=user.id, label="Original")
    stale = client.get(f"/api/v1/recipes/{recipe.id}").headers["etag"]
    client.patch(f"/api/v1/recipes/{recipe.id}", json={"label": "Second"}, headers=bearer(tokens))

    response = client.patch(
        f"/api/v1/recipes/{recipe.id}",
        json={"label": "Lost update"},
        headers={**bearer(tokens), "If-Match": stale},
    )

    assert response.status_code == 412
    assert client.get(f"/api/v1/recipes/{recipe.id}").json()["label"] == "Second"
    weak = client.patch(
        f"/api/v1/recipes/{recipe.id}",
        json={"label": "Weak"},
        headers={**bearer(tokens), "If-Match": "W/" + stale},
    )
    assert weak.status_code == 412
    star = client.patch(
        f"/api/v1/recipes/{recipe.id}",
        json={"label": "Any version"},
        headers={**bearer(tokens), "If-Match": "*"},
    )
    assert star.status_code == 200


def test_patch_refuses_nulls_and_bad_values(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    user, tokens = owner
    recipe = make_recipe(submitter_id=user.id, label="Stays")
    for body in ({"label": None}, {"url": "nope"}, {"source": ""}):
        response = client.patch(f"/api/v1/recipes/{recipe.id}", json=body, headers=bearer(tokens))
        assert response.status_code == 422, body
    assert client.get(f"/api/v1/recipes/{recipe.id}").json()["label"] == "Stays"


def test_patch_and_delete_unknown_ids_are_404(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    _, tokens = owner
    assert (
        client.patch(
            "/api/v1/recipes/8888888", json={"label": "x"}, headers=bearer(tokens)
        ).status_code
        == 404
    )
    assert client.delete("/api/v1/recipes/8888888", headers=bearer(tokens)).status_code == 404


def test_delete_then_get_is_404(
    client: TestClient, owner: tuple[User, dict[str, Any]], session: Session
) -> None:
    user, tokens = owner
    recipe = make_recipe(submitter_id=user.id)
    response = client.delete(f"/api/v1/recipes/{recipe.id}", headers=bearer(tokens))
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/v1/recipes/{recipe.id}").status_code == 404
    session.expunge_all()
    assert session.get(Recipe, recipe.id) is None


def test_delete_with_a_stale_etag_is_412(
    client: TestClient, owner: tuple[User, dict[str, Any]]
) -> None:
    user, tokens = owner
    recipe = make_recipe(submitter_id=user.id)
    stale = client.get(f"/api/v1/recipes/{recipe.id}").headers["etag"]
    client.patch(f"/api/v1/recipes/{recipe.id}", json={"label": "Changed"}, headers=bearer(tokens))
    response = client.delete(
        f"/api/v1/recipes/{recipe.id}", headers={**bearer(tokens), "If-Match": stale}
    )
    assert response.status_code == 412
    assert client.get(f"/api/v1/recipes/{recipe.id}").status_code == 200


def test_my_recipes_lists_only_mine(client: TestClient, owner: tuple[User, dict[str, Any]]) -> None:
    user, tokens = owner
    mine = [make_recipe(submitter_id=user.id).id for _ in range(3)]
    make_recipe()

    response = client.get(
        "/api/v1/recipes/my-recipes/", params={"limit": 2}, headers=bearer(tokens)
    )

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == mine[::-1][:2]
    rest = client.get(
        "/api/v1/recipes/my-recipes/",
        params={"cursor": response.json()["next_cursor"]},
        headers=bearer(tokens),
    )
    assert [r["id"] for r in rest.json()["results"]] == [mine[0]]
    assert client.get("/api/v1/recipes/my-recipes/").status_code == 401
    assert (
        client.get(
            "/api/v1/recipes/my-recipes/", params={"limit": 101}, headers=bearer(tokens)
        ).status_code
        == 422
    )


def test_concurrent_patches_with_one_etag_exactly_one_wins(live_client: TestClient) -> None:
    email = live_email()
    signup(live_client, email)
    tokens = login(live_client, email)
    created = live_client.post("/api/v1/recipes/", json=NEW_RECIPE, headers=bearer(tokens))
    recipe_id, etag = created.json()["id"], created.headers["etag"]

    def patch(n: int) -> int:
        response = live_client.patch(
            f"/api/v1/recipes/{recipe_id}",
            json={"label": f"Writer {n}"},
            headers={**bearer(tokens), "If-Match": etag},
        )
        status: int = response.status_code
        return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(patch, range(8)))

    assert sorted(statuses) == [200] + [412] * 7
    final = live_client.get(f"/api/v1/recipes/{recipe_id}")
    assert final.json()["label"].startswith("Writer ")
    assert final.headers["etag"] != etag
