"""Login: tokens, equal answers for every failure, rehashing, scopes."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.low_level import Type
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth.passwords import password_hasher
from auth.tokens import read_access_token
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, login
from users.models import User

LOGIN = "/api/v1/auth/login"


def test_login_returns_a_token_pair(client: TestClient) -> None:
    user = make_user(email="chef@example.com")

    response = client.post(
        LOGIN, data={"username": "Chef@Example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["scope"] == "recipes:write"
    claims = read_access_token(body["access_token"])
    assert claims.user_id == user.id
    me = client.get("/api/v1/auth/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json()["email"] == "chef@example.com"
    assert me.headers["cache-control"] == "no-store"


def test_login_accepts_multipart_and_grant_type(client: TestClient) -> None:
    make_user(email="multi@example.com")
    response = client.post(
        LOGIN,
        files={
            "username": (None, "multi@example.com"),
            "password": (None, DEFAULT_PASSWORD),
            "grant_type": (None, "password"),
        },
    )
    assert response.status_code == 200, response.text


def test_unknown_email_and_wrong_password_get_the_same_answer(client: TestClient) -> None:
    make_user(email="known@example.com")
    wrong_password = client.post(
        LOGIN, data={"username": "known@example.com", "password": "nope-nope-nope"}
    )
    unknown_email = client.post(
        LOGIN, data={"username": "ghost@example.com", "password": "nope-nope-nope"}
    )

    expected = {"detail": "Incorrect username or password"}
    assert wrong_password.status_code == unknown_email.status_code == 400
    assert wrong_password.json() == unknown_email.json() == expected


def test_inactive_users_cannot_log_in(client: TestClient) -> None:
    make_user(email="gone@example.com", is_active=False)
    response = client.post(
        LOGIN, data={"username": "gone@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect username or password"}


def test_missing_form_fields_are_422_without_echo(client: TestClient) -> None:
    response = client.post(LOGIN, data={"password": "my-secret-pass"})
    assert response.status_code == 422
    assert "my-secret-pass" not in response.text


def test_a_weaker_hash_is_upgraded_at_login(client: TestClient, session: Session) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    user = make_user(email="old-hash@example.com", hashed_password=weak.hash(DEFAULT_PASSWORD))
    old_hash = user.hashed_password

    login(client, "old-hash@example.com")

    session.refresh(user)
    assert user.hashed_password != old_hash
    assert user.hashed_password is not None
    assert not password_hasher().check_needs_rehash(user.hashed_password)
    # The upgraded hash still accepts the password.
    login(client, "old-hash@example.com")


def test_a_current_hash_is_left_alone(client: TestClient, session: Session) -> None:
    user = make_user(email="current@example.com")
    before = user.hashed_password
    login(client, "current@example.com")
    session.refresh(user)
    assert user.hashed_password == before


def test_scopes_default_to_all_the_user_may_have(client: TestClient) -> None:
    make_user(email="boss@example.com", is_superuser=True)
    tokens = login(client, "boss@example.com")
    assert tokens["scope"] == "admin recipes:write"


def test_a_requested_scope_narrows_the_grant(client: TestClient) -> None:
    make_user(email="boss2@example.com", is_superuser=True)
    tokens = login(client, "boss2@example.com", scope="recipes:write")
    assert tokens["scope"] == "recipes:write"
    assert read_access_token(tokens["access_token"]).scopes == {"recipes:write"}


def test_a_scope_the_user_may_not_have_is_not_granted(client: TestClient) -> None:
    make_user(email="plain@example.com")
    tokens = login(client, "plain@example.com", scope="admin recipes:write")
    assert tokens["scope"] == "recipes:write"


def test_production_argon2_profile_is_owasp_minimum() -> None:
    from auth.settings import AuthSettings

    settings = AuthSettings(_env_file=None, argon2_memory_kib=19456, argon2_time_cost=2)
    defaults = AuthSettings.model_fields
    assert defaults["argon2_memory_kib"].default == 19 * 1024
    assert defaults["argon2_time_cost"].default == 2
    assert defaults["argon2_parallelism"].default == 1
    assert settings.argon2_memory_kib == 19456


def test_user_model_has_no_password_in_public_output(client: TestClient) -> None:
    user: User = make_user(email="quiet@example.com")
    tokens = login(client, "quiet@example.com")
    body = client.get("/api/v1/auth/me", headers=bearer(tokens)).text
    assert user.hashed_password is not None
    assert user.hashed_password not in body
    assert "password" not in body
