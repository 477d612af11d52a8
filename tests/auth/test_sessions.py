"""Login sessions: refresh rotation, reuse detection, logout, password change, expiry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from auth.models import LoginSession
from auth.tokens import read_access_token
from shared.models import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, live_email, login, signup

ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
NEW_PASSWORD = "a brand new secret phrase"


def _refresh(client: TestClient, token: str) -> Any:
    return client.post(REFRESH, json={"refresh_token": token})


def test_refresh_rotates_the_pair(client: TestClient) -> None:
    make_user(email="rotor@example.com")
    first = login(client, "rotor@example.com")

    response = _refresh(client, first["refresh_token"])

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert client.get(ME, headers=bearer(second)).status_code == 200
    # Same login session, new tokens.
    assert (
        read_access_token(second["access_token"]).session_id
        == read_access_token(first["access_token"]).session_id
    )
    # And the next one rotates again.
    assert _refresh(client, second["refresh_token"]).status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_session(client: TestClient) -> None:
    make_user(email="thief@example.com")
    first = login(client, "thief@example.com")
    second = _refresh(client, first["refresh_token"]).json()

    replay = _refresh(client, first["refresh_token"])

    assert replay.status_code == 400
    assert replay.json() == {"detail": "Invalid refresh token"}
    # Every token of that login session is dead now, the legitimate new ones included.
    assert _refresh(client, second["refresh_token"]).status_code == 400
    assert client.get(ME, headers=bearer(second)).status_code == 401
    assert client.get(ME, headers=bearer(first)).status_code == 401


def test_reuse_revokes_only_that_session(client: TestClient) -> None:
    make_user(email="two-devices@example.com")
    phone = login(client, "two-devices@example.com")
    laptop = login(client, "two-devices@example.com")
    _refresh(client, phone["refresh_token"])
    _refresh(client, phone["refresh_token"])  # replay: phone's session dies

    assert client.get(ME, headers=bearer(laptop)).status_code == 200
    assert _refresh(client, laptop["refresh_token"]).status_code == 200


def test_unknown_or_malformed_refresh_tokens_are_400(client: TestClient) -> None:
    assert _refresh(client, "never-issued").status_code == 400
    assert client.post(REFRESH, json={}).status_code == 422
    assert client.post(REFRESH, json={"refresh_token": ""}).status_code == 422


def test_an_access_token_is_not_a_refresh_token(client: TestClient) -> None:
    make_user(email="mixup@example.com")
    tokens = login(client, "mixup@example.com")
    assert _refresh(client, tokens["access_token"]).status_code == 400


def test_refresh_after_the_session_expired_is_400(client: TestClient, session: Session) -> None:
    make_user(email="old-session@example.com")
    tokens = login(client, "old-session@example.com")
    login_session = session.get(LoginSession, read_access_token(tokens["access_token"]).session_id)
    assert login_session is not None
    login_session.expires_at = utcnow() - timedelta(seconds=1)
    session.add(login_session)
    session.flush()

    assert _refresh(client, tokens["refresh_token"]).status_code == 400
    assert client.get(ME, headers=bearer(tokens)).status_code == 401


def test_refresh_for_a_deactivated_user_is_400(client: TestClient, session: Session) -> None:
    user = make_user(email="benched@example.com")
    tokens = login(client, user.email)
    user.is_active = False
    session.add(user)
    session.flush()
    assert _refresh(client, tokens["refresh_token"]).status_code == 400


def test_session_lifetime_is_absolute(client: TestClient, session: Session) -> None:
    make_user(email="lifetime@example.com")
    tokens = login(client, "lifetime@example.com")
    created = session.get(LoginSession, read_access_token(tokens["access_token"]).session_id)
    refreshed = _refresh(client, tokens["refresh_token"]).json()
    after = session.get(LoginSession, read_access_token(refreshed["access_token"]).session_id)
    assert created is not None and after is not None
    assert after.expires_at == created.expires_at
    assert abs((created.expires_at - created.created_at) - timedelta(days=14)) < timedelta(
        seconds=5
    )


def test_logout_ends_the_session(client: TestClient) -> None:
    make_user(email="leaver@example.com")
    tokens = login(client, "leaver@example.com")
    other = login(client, "leaver@example.com")

    response = client.post("/api/v1/auth/logout", headers=bearer(tokens))

    assert response.status_code == 204
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
    assert _refresh(client, tokens["refresh_token"]).status_code == 400
    # Another login of the same user is unaffected.
    assert client.get(ME, headers=bearer(other)).status_code == 200


def test_logout_needs_a_token(client: TestClient) -> None:
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_password_change_revokes_the_other_sessions(client: TestClient) -> None:
    make_user(email="changer@example.com")
    current = login(client, "changer@example.com")
    other = login(client, "changer@example.com")

    response = client.post(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(current),
    )

    assert response.status_code == 204
    assert client.get(ME, headers=bearer(current)).status_code == 200
    assert client.get(ME, headers=bearer(other)).status_code == 401
    assert _refresh(client, other["refresh_token"]).status_code == 400
    login(client, "changer@example.com", NEW_PASSWORD)
    old = client.post(
        "/api/v1/auth/login", data={"username": "changer@example.com", "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 400


def test_password_change_with_the_wrong_current_password_is_400(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="forgetful@example.com")
    before = user.hashed_password
    tokens = login(client, "forgetful@example.com")
    response = client.post(
        "/api/v1/users/me/password",
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
        headers=bearer(tokens),
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Current password is incorrect"}
    session.refresh(user)
    assert user.hashed_password == before
    assert client.get(ME, headers=bearer(tokens)).status_code == 200


def test_password_change_refuses_a_weak_new_password(client: TestClient) -> None:
    make_user(email="weakling@example.com")
    tokens = login(client, "weakling@example.com")
    response = client.post(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "password1"},
        headers=bearer(tokens),
    )
    assert response.status_code == 422
    assert DEFAULT_PASSWORD not in response.text


def test_two_concurrent_refreshes_with_one_token_exactly_one_wins(
    live_client: TestClient, engine: Any
) -> None:
    email = live_email()
    signup(live_client, email)
    tokens = login(live_client, email)

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(
            pool.map(lambda _: _refresh(live_client, tokens["refresh_token"]), range(2))
        )

    assert sorted(response.status_code for response in responses) == [200, 400]
    with Session(engine) as session:
        sessions = session.exec(
            select(LoginSession).where(
                col(LoginSession.id) == read_access_token(tokens["access_token"]).session_id
            )
        ).all()
    # The second presentation of one token counts as reuse: the session is revoked.
    assert len(sessions) == 1
    assert sessions[0].revoked_reason == "refresh_token_reused"
