"""The public read side of recipes: one recipe, the list, search."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from recipes.models import Recipe
from tests.factories import make_recipe, make_user

RECIPE_FIELDS = {"id", "label", "source", "url", "submitter_id", "created_at", "updated_at"}


def test_get_recipe_returns_the_recipe_with_an_etag(client: TestClient) -> None:
    recipe = make_recipe(label="Chicken Vesuvio", source="Serious Eats")

    response = client.get(f"/api/v1/recipes/{recipe.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == RECIPE_FIELDS
    assert body["id"] == recipe.id
    assert body["label"] == "Chicken Vesuvio"
    assert body["submitter_id"] == recipe.submitter_id
    assert body["created_at"].endswith(("Z", "+00:00"))
    assert response.headers["etag"].startswith('"')


def test_get_recipe_honours_if_none_match(client: TestClient) -> None:
    recipe = make_recipe()
    etag = client.get(f"/api/v1/recipes/{recipe.id}").headers["etag"]

    response = client.get(f"/api/v1/recipes/{recipe.id}", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.headers["etag"] == etag
    assert response.content == b""


def test_etag_changes_when_the_recipe_changes(client: TestClient, session: Session) -> None:
    recipe = make_recipe()
    before = client.get(f"/api/v1/recipes/{recipe.id}").headers["etag"]
    recipe.version += 1
    session.add(recipe)
    session.flush()

    after = client.get(f"/api/v1/recipes/{recipe.id}", headers={"If-None-Match": before})

    assert after.status_code == 200
    assert after.headers["etag"] != before


def test_unknown_recipe_is_404_with_the_contract_message(client: TestClient) -> None:
    response = client.get("/api/v1/recipes/999999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Recipe with ID 999999 not found"}


def test_out_of_range_ids_are_404_not_errors(client: TestClient) -> None:
    for recipe_id in ("0", "-5", str(2**31), str(2**63), str(10**30)):
        response = client.get(f"/api/v1/recipes/{recipe_id}")
        assert response.status_code == 404, recipe_id
        assert response.json() == {"detail": f"Recipe with ID {recipe_id} not found"}


def test_non_integer_id_is_422(client: TestClient) -> None:
    assert client.get("/api/v1/recipes/abc").status_code == 422


def test_a_stale_bearer_token_does_not_change_a_public_answer(client: TestClient) -> None:
    recipe = make_recipe()
    plain = client.get(f"/api/v1/recipes/{recipe.id}")
    with_token = client.get(
        f"/api/v1/recipes/{recipe.id}", headers={"Authorization": "Bearer not.a.token"}
    )
    assert with_token.status_code == plain.status_code == 200
    assert with_token.json() == plain.json()


def _ids(response_json: dict[str, list[dict[str, int]]]) -> list[int]:
    return [item["id"] for item in response_json["results"]]


def test_list_is_newest_first_and_pages_with_a_cursor(client: TestClient) -> None:
    user = make_user()
    created = [make_recipe(submitter_id=user.id).id for _ in range(5)]

    first = client.get("/api/v1/recipes/", params={"limit": 2, "submitter_id": user.id})
    assert first.status_code == 200
    assert _ids(first.json()) == created[::-1][:2]
    cursor = first.json()["next_cursor"]
    assert isinstance(cursor, str)

    second = client.get(
        "/api/v1/recipes/", params={"limit": 2, "cursor": cursor, "submitter_id": user.id}
    )
    assert _ids(second.json()) == created[::-1][2:4]

    third = client.get(
        "/api/v1/recipes/",
        params={"limit": 2, "cursor": second.json()["next_cursor"], "submitter_id": user.id},
    )
    assert _ids(third.json()) == created[::-1][4:]
    assert third.json()["next_cursor"] is None


def test_a_cursor_works_with_any_limit(client: TestClient) -> None:
    user = make_user()
    created = [make_recipe(submitter_id=user.id).id for _ in range(6)]
    first = client.get("/api/v1/recipes/", params={"limit": 1, "submitter_id": user.id})

    rest = client.get(
        "/api/v1/recipes/",
        params={"limit": 10, "cursor": first.json()["next_cursor"], "submitter_id": user.id},
    )

    assert _ids(rest.json()) == created[::-1][1:]
    assert rest.json()["next_cursor"] is None


def test_pages_stay_stable_while_recipes_are_added(client: TestClient) -> None:
    user = make_user()
    created = [make_recipe(submitter_id=user.id).id for _ in range(6)]
    first = client.get("/api/v1/recipes/", params={"limit": 3, "submitter_id": user.id})

    # New recipes arrive between the two page requests.
    for _ in range(4):
        make_recipe(submitter_id=user.id)
    second = client.get(
        "/api/v1/recipes/",
        params={"limit": 3, "cursor": first.json()["next_cursor"], "submitter_id": user.id},
    )

    seen = _ids(first.json()) + _ids(second.json())
    assert seen == created[::-1]
    assert len(set(seen)) == len(seen)


def test_list_without_filter_includes_every_submitter(client: TestClient) -> None:
    mine, theirs = make_recipe(), make_recipe()
    ids = _ids(client.get("/api/v1/recipes/", params={"limit": 100}).json())
    assert theirs.id is not None and mine.id is not None
    assert ids.index(theirs.id) < ids.index(mine.id)


def test_list_limit_defaults_to_20_and_is_bounded(client: TestClient) -> None:
    user = make_user()
    for _ in range(25):
        make_recipe(submitter_id=user.id)

    default = client.get("/api/v1/recipes/", params={"submitter_id": user.id})
    assert len(default.json()["results"]) == 20

    for bad in ("0", "101", "-1", "x"):
        response = client.get("/api/v1/recipes/", params={"limit": bad})
        assert response.status_code == 422, bad


def test_garbage_cursor_is_422(client: TestClient) -> None:
    for cursor in ("not-a-cursor", "WzEsLTFd", "eyJhIjoxfQ", "%%%"):
        response = client.get("/api/v1/recipes/", params={"cursor": cursor})
        assert response.status_code == 422, cursor
        assert response.json() == {
            "detail": [{"loc": ["query", "cursor"], "msg": "Invalid cursor", "type": "value_error"}]
        }


def _search(client: TestClient, keyword: str, **params: str | int) -> list[str]:
    response = client.get("/api/v1/recipes/search/", params={"keyword": keyword, **params})
    assert response.status_code == 200, response.text
    return [item["label"] for item in response.json()["results"]]


def test_search_matches_label_substrings_case_insensitively(client: TestClient) -> None:
    make_recipe(label="Chicken Vesuvio")
    make_recipe(label="Roast CHICKEN thighs")
    make_recipe(label="Tofu curry")

    labels = _search(client, "chick", max_results=100)

    assert "Chicken Vesuvio" in labels
    assert "Roast CHICKEN thighs" in labels
    assert "Tofu curry" not in labels


def test_search_is_newest_first_and_honours_max_results(client: TestClient) -> None:
    labels = [make_recipe(label=f"Zanzibar stew {n}").label for n in range(4)]

    assert _search(client, "zanzibar stew", max_results=100) == labels[::-1]
    assert _search(client, "zanzibar stew", max_results=2) == labels[::-1][:2]


def test_search_treats_sql_metacharacters_as_plain_text(client: TestClient) -> None:
    make_recipe(label="100% rye bread")
    make_recipe(label="1000 rye loaves")
    make_recipe(label="snake_case soup")
    make_recipe(label="snakeXcase soup")
    make_recipe(label="Grandma's pie")
    make_recipe(label="Grandmas pie")

    assert _search(client, "0% r", max_results=100) == ["100% rye bread"]
    assert _search(client, "e_c", max_results=100) == ["snake_case soup"]
    assert _search(client, "a's", max_results=100) == ["Grandma's pie"]
    assert _search(client, "'; DROP TABLE recipe; --", max_results=100) == []
    assert _search(client, "%%%", max_results=100) == []
    assert _search(client, "___", max_results=100) == []
    # The table is still there and intact.
    assert _search(client, "grandma", max_results=100) == ["Grandmas pie", "Grandma's pie"]


def test_search_keyword_rules(client: TestClient) -> None:
    assert client.get("/api/v1/recipes/search/").status_code == 422
    assert client.get("/api/v1/recipes/search/", params={"keyword": "ab"}).status_code == 422
    too_long = "x" * 101
    assert client.get("/api/v1/recipes/search/", params={"keyword": too_long}).status_code == 422
    for bad in ("0", "101", "many"):
        response = client.get(
            "/api/v1/recipes/search/", params={"keyword": "abc", "max_results": bad}
        )
        assert response.status_code == 422, bad


def test_search_defaults_to_ten_results(client: TestClient) -> None:
    for n in range(12):
        make_recipe(label=f"Quokka biscuit {n}")
    assert len(_search(client, "quokka biscuit")) == 10


def test_search_results_have_the_recipe_shape(client: TestClient) -> None:
    make_recipe(label="Paprikash of note")
    response = client.get("/api/v1/recipes/search/", params={"keyword": "paprikash of"})
    (item,) = response.json()["results"]
    assert set(item) == RECIPE_FIELDS


def test_recipes_deleted_with_their_submitter(session: Session) -> None:
    user = make_user()
    recipe_id = make_recipe(submitter_id=user.id).id
    session.delete(user)
    session.flush()
    session.expunge_all()
    assert session.get(Recipe, recipe_id) is None


def test_a_nul_byte_in_a_search_is_422_on_both_databases(client: TestClient) -> None:
    # PostgreSQL text cannot hold NUL and SQLite's patterns would end at it: refused alike.
    make_recipe(label="Chicken soup")
    response = client.get("/api/v1/recipes/search/", params={"keyword": "chi\x00cken"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["request"], "msg": "A value is out of range or invalid", "type": "value_error"}
        ]
    }


def test_a_nul_byte_in_the_home_page_search_is_a_message(client: TestClient) -> None:
    make_recipe(label="Chicken soup")
    response = client.get("/", params={"q": "chi\x00cken"})
    assert response.status_code == 200
    assert "Search text cannot contain control characters." in response.text
    assert "Chicken soup" not in response.text
