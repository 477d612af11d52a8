"""Sign-up: accounts, duplicates, password rules, privilege fields."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from tests.factories import make_user
from users.models import User

SIGNUP = "/api/v1/auth/signup"
GOOD_PASSWORD = "a long and private phrase"


def test_signup_creates_an_account(client: TestClient, session: Session) -> None:
    response = client.post(
        SIGNUP,
        json={"email": "  New.Cook@Example.COM ", "password": GOOD_PASSWORD, "first_name": "Ada"},
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "first_name",
        "surname",
        "is_active",
        "is_superuser",
        "created_at",
    }
    assert body["email"] == "new.cook@example.com"
    assert body["first_name"] == "Ada"
    assert body["is_active"] is True
    assert body["is_superuser"] is False
    stored = session.exec(select(User).where(col(User.id) == body["id"])).one()
    assert stored.hashed_password is not None
    assert stored.hashed_password.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored.hashed_password
    assert "hashed_password" not in response.text


def test_signup_accepts_a_full_name_from_older_clients(client: TestClient) -> None:
    response = client.post(
        SIGNUP,
        json={
            "email": "old@example.com",
            "password": GOOD_PASSWORD,
            "full_name": "Grace Brewster Hopper",
        },
    )
    assert response.status_code == 201
    assert response.json()["first_name"] == "Grace"
    assert response.json()["surname"] == "Brewster Hopper"


def test_duplicate_email_in_another_case_is_409(client: TestClient) -> None:
    make_user(email="taken@example.com")
    response = client.post(SIGNUP, json={"email": "TAKEN@Example.com", "password": GOOD_PASSWORD})
    assert response.status_code == 409
    assert response.json() == {"detail": "The user with this email already exists in the system"}


def test_privilege_fields_in_the_body_grant_nothing(client: TestClient, session: Session) -> None:
    response = client.post(
        SIGNUP,
        json={
            "email": "sneaky@example.com",
            "password": GOOD_PASSWORD,
            "is_superuser": True,
            "is_active": False,
            "id": 999999,
            "scopes": ["admin"],
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["is_superuser"] is False
    assert body["is_active"] is True
    assert body["id"] != 999999
    stored = session.get(User, body["id"])
    assert stored is not None and not stored.is_superuser


@pytest.mark.parametrize(
    "password",
    ["tiny7x", "x" * 7, "y" * 129, "PASSWORD", "Password1", "qwerty123", "iloveyou"],
)
def test_weak_passwords_are_refused_without_echo(client: TestClient, password: str) -> None:
    response = client.post(SIGNUP, json={"email": "weak@example.com", "password": password})
    assert response.status_code == 422
    assert f'"{password}"' not in response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "password"]
    assert "input" not in error


def test_a_bad_email_is_422(client: TestClient) -> None:
    for email in ("not-an-email", "", "a@", "@b.com"):
        response = client.post(SIGNUP, json={"email": email, "password": GOOD_PASSWORD})
        assert response.status_code == 422, email


def test_a_non_json_body_is_refused(client: TestClient) -> None:
    response = client.post(
        SIGNUP,
        content=f"email=x@example.com&password={GOOD_PASSWORD}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (415, 422)
    assert GOOD_PASSWORD not in response.text
