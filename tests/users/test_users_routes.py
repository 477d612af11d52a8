"""User routes: one's own profile, and administration behind the admin scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from recipes.models import Recipe
from tests.factories import make_recipe, make_user
from tests.helpers import bearer, login
from users.models import User


@pytest.fixture
def admin_tokens(client: TestClient) -> dict[str, Any]:
    make_user(email="root@example.com", is_superuser=True)
    return login(client, "root@example.com")


@pytest.fixture
def cook_tokens(client: TestClient) -> dict[str, Any]:
    make_user(email="cook@example.com")
    return login(client, "cook@example.com")


def test_update_my_profile(client: TestClient, cook_tokens: dict[str, Any]) -> None:
    response = client.patch(
        "/api/v1/users/me",
        json={"first_name": "Julia", "surname": "Child", "is_superuser": True, "email": "x@y.z"},
        headers=bearer(cook_tokens),
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["surname"]) == ("Julia", "Child")
    assert body["is_superuser"] is False
    assert body["email"] == "cook@example.com"


def test_profile_update_needs_a_token(client: TestClient) -> None:
    response = client.patch("/api/v1/users/me", json={"first_name": "X"})
    assert response.status_code == 401


def test_admin_routes_refuse_ordinary_users(
    client: TestClient, cook_tokens: dict[str, Any]
) -> None:
    victim = make_user()
    headers = bearer(cook_tokens)
    assert client.get("/api/v1/users/", headers=headers).status_code == 403
    assert client.get(f"/api/v1/users/{victim.id}", headers=headers).status_code == 403
    assert (
        client.patch(
            f"/api/v1/users/{victim.id}", json={"is_active": False}, headers=headers
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/users/{victim.id}", headers=headers).status_code == 403


def test_a_superuser_without_the_admin_scope_is_refused(client: TestClient) -> None:
    make_user(email="modest@example.com", is_superuser=True)
    narrow = login(client, "modest@example.com", scope="recipes:write")
    response = client.get("/api/v1/users/", headers=bearer(narrow))
    assert response.status_code == 403
    assert response.json() == {"detail": "Not enough permissions"}


def test_an_admin_token_of_a_demoted_user_is_refused(client: TestClient, session: Session) -> None:
    demoted = make_user(email="demoted@example.com", is_superuser=True)
    tokens = login(client, "demoted@example.com")
    demoted.is_superuser = False
    session.add(demoted)
    session.flush()
    assert client.get("/api/v1/users/", headers=bearer(tokens)).status_code == 403


def test_admin_lists_users_with_a_cursor(client: TestClient, admin_tokens: dict[str, Any]) -> None:
    made = [make_user().id for _ in range(3)]
    first = client.get("/api/v1/users/", params={"limit": 2}, headers=bearer(admin_tokens))
    assert first.status_code == 200
    assert [user["id"] for user in first.json()["results"]] == made[::-1][:2]
    second = client.get(
        "/api/v1/users/",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=bearer(admin_tokens),
    )
    assert [user["id"] for user in second.json()["results"]] == [made[0]]
    assert "hashed_password" not in first.text


def test_admin_gets_a_user_or_404(client: TestClient, admin_tokens: dict[str, Any]) -> None:
    user = make_user(email="found@example.com")
    found = client.get(f"/api/v1/users/{user.id}", headers=bearer(admin_tokens))
    assert found.status_code == 200
    assert found.json()["email"] == "found@example.com"
    missing = client.get("/api/v1/users/987654", headers=bearer(admin_tokens))
    assert missing.status_code == 404
    assert missing.json() == {"detail": "User with ID 987654 not found"}


def test_deactivating_revokes_every_session_at_once(
    client: TestClient, admin_tokens: dict[str, Any], session: Session
) -> None:
    user = make_user(email="benched@example.com")
    phone = login(client, "benched@example.com")
    laptop = login(client, "benched@example.com")

    response = client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=bearer(admin_tokens)
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    for tokens in (phone, laptop):
        assert client.get("/api/v1/auth/me", headers=bearer(tokens)).status_code == 401
    # Reactivation does not bring the old sessions back.
    client.patch(f"/api/v1/users/{user.id}", json={"is_active": True}, headers=bearer(admin_tokens))
    for tokens in (phone, laptop):
        assert client.get("/api/v1/auth/me", headers=bearer(tokens)).status_code == 401
        refreshed = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 400
    login(client, "benched@example.com")


def test_admin_can_promote_and_rename(client: TestClient, admin_tokens: dict[str, Any]) -> None:
    user = make_user()
    response = client.patch(
        f"/api/v1/users/{user.id}",
        json={"is_superuser": True, "first_name": "Head"},
        headers=bearer(admin_tokens),
    )
    assert response.status_code == 200
    assert response.json()["is_superuser"] is True
    assert response.json()["first_name"] == "Head"


def test_admins_cannot_lock_themselves_out(
    client: TestClient, admin_tokens: dict[str, Any], session: Session
) -> None:
    me = client.get("/api/v1/auth/me", headers=bearer(admin_tokens)).json()
    for change in ({"is_active": False}, {"is_superuser": False}):
        response = client.patch(
            f"/api/v1/users/{me['id']}", json=change, headers=bearer(admin_tokens)
        )
        assert response.status_code == 403
    assert (
        client.delete(f"/api/v1/users/{me['id']}", headers=bearer(admin_tokens)).status_code == 403
    )
    assert client.get("/api/v1/users/", headers=bearer(admin_tokens)).status_code == 200


def test_deleting_a_user_takes_their_recipes(
    client: TestClient, admin_tokens: dict[str, Any], session: Session
) -> None:
    user = make_user()
    recipe_id = make_recipe(submitter_id=user.id).id
    user_tokens = login(client, user.email)

    response = client.delete(f"/api/v1/users/{user.id}", headers=bearer(admin_tokens))

    assert response.status_code == 204
    session.expunge_all()
    assert session.get(User, user.id) is None
    assert session.get(Recipe, recipe_id) is None
    assert client.get(f"/api/v1/recipes/{recipe_id}").status_code == 404
    assert client.get("/api/v1/auth/me", headers=bearer(user_tokens)).status_code == 401
    assert (
        client.delete(f"/api/v1/users/{user.id}", headers=bearer(admin_tokens)).status_code == 404
    )
