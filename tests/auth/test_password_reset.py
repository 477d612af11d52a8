"""Password reset, end to end through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth import tokens as auth_tokens
from auth.settings import get_auth_settings
from tests.auth.mail_server import Inbox, point_mail_at, run_mail_server
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, login
from tests.jwt_helpers import sign

REQUEST = "/api/v1/auth/password-reset/request"
CONFIRM = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "a fresh and private phrase"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    with run_mail_server(inbox) as port:
        point_mail_at(monkeypatch, port)
        yield inbox


def _request(client: TestClient, email: str) -> None:
    response = client.post(REQUEST, json={"email": email})
    assert response.status_code == 202
    assert response.headers["cache-control"] == "no-store"


def test_reset_end_to_end(client: TestClient, inbox: Inbox) -> None:
    make_user(email="forgot@example.com")
    old_session = login(client, "forgot@example.com")

    _request(client, "Forgot@Example.com")

    (message,) = inbox.messages
    assert message["To"] == "forgot@example.com"
    assert message["From"] == "Larder <larder@example.com>"
    (token,) = inbox.tokens_for("forgot@example.com")
    response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 204

    login(client, "forgot@example.com", NEW_PASSWORD)
    refused = client.post(
        "/api/v1/auth/login", data={"username": "forgot@example.com", "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 400
    # Every session that existed before the reset is over.
    assert client.get("/api/v1/auth/me", headers=bearer(old_session)).status_code == 401
    refresh = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": old_session["refresh_token"]}
    )
    assert refresh.status_code == 400


@pytest.mark.parametrize(
    "fields", [{}, {"hashed_password": None}], ids=["with-password", "single-sign-on-only"]
)
def test_a_reset_token_works_once(client: TestClient, inbox: Inbox, fields: dict[str, Any]) -> None:
    make_user(email="once@example.com", **fields)
    _request(client, "once@example.com")
    (token,) = inbox.tokens_for("once@example.com")

    first = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    second = client.post(CONFIRM, json={"token": token, "new_password": "yet another phrase"})

    assert first.status_code == 204
    assert second.status_code == 400
    assert second.json() == {"detail": "Invalid or expired password reset token"}
    login(client, "once@example.com", NEW_PASSWORD)


def test_a_reset_token_dies_when_the_password_changes_meanwhile(
    client: TestClient, inbox: Inbox, session: Session
) -> None:
    user = make_user(email="meanwhile@example.com")
    stamp_before = user.security_stamp
    _request(client, "meanwhile@example.com")
    (token,) = inbox.tokens_for("meanwhile@example.com")
    session_tokens = login(client, "meanwhile@example.com")
    changed = client.post(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "changed it myself"},
        headers=bearer(session_tokens),
    )
    assert changed.status_code == 204

    response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    login(client, "meanwhile@example.com", "changed it myself")
    # The change replaced the account's stamp as well as its hash.
    session.refresh(user)
    assert user.security_stamp != stamp_before


def _token_from_public_information(user_id: int, binding: str) -> str:
    """A reset token made with SECRET_KEY alone, claim by claim as Larder writes them."""
    settings = get_auth_settings()
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "type": "password_reset",
        "pwd": binding,
    }
    return sign(claims)


def test_a_reset_token_for_an_account_without_a_password_cannot_be_forged(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="sso-only@example.com", hashed_password=None)
    assert user.id is not None
    # What a token was once bound to for every account without a password: a known constant.
    known_constant = hashlib.sha256(b"no-password").hexdigest()[:32]
    # Nor is the binding a function of the (empty) password alone.
    empty_password = hashlib.sha256(b"\x00").hexdigest()

    for binding in (known_constant, empty_password):
        forged = _token_from_public_information(user.id, binding)
        response = client.post(CONFIRM, json={"token": forged, "new_password": NEW_PASSWORD})
        assert response.status_code == 400, binding
        assert response.json() == {"detail": "Invalid or expired password reset token"}

    session.refresh(user)
    assert user.hashed_password is None


def test_reset_tokens_of_two_accounts_without_a_password_differ_in_binding(
    client: TestClient,
) -> None:
    first = make_user(email="sso-a@example.com", hashed_password=None)
    second = make_user(email="sso-b@example.com", hashed_password=None)
    assert first.security_stamp != second.security_stamp
    assert auth_tokens.password_reset_binding(first) != auth_tokens.password_reset_binding(second)
    # A token made for one account, moved to the other, does not work there.
    assert second.id is not None
    _, first_binding = auth_tokens.read_password_reset_token(
        auth_tokens.create_password_reset_token(first)
    )
    moved = _token_from_public_information(second.id, first_binding)
    response = client.post(CONFIRM, json={"token": moved, "new_password": NEW_PASSWORD})
    assert response.status_code == 400


def test_an_expired_reset_token_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(email="late@example.com")
    issued_at = time.time() - 31 * 60
    monkeypatch.setattr("auth.tokens.time.time", lambda: issued_at)
    token = auth_tokens.create_password_reset_token(user)
    monkeypatch.undo()

    response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})

    assert response.status_code == 400
    login(client, "late@example.com")


def test_a_reset_token_within_its_30_minutes_works(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(email="in-time@example.com")
    issued_at = time.time() - 29 * 60
    monkeypatch.setattr("auth.tokens.time.time", lambda: issued_at)
    token = auth_tokens.create_password_reset_token(user)
    monkeypatch.undo()
    response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 204


def test_unknown_and_inactive_emails_get_the_same_202_and_no_mail(
    client: TestClient, inbox: Inbox
) -> None:
    make_user(email="sleeping@example.com", is_active=False)
    known = make_user(email="awake@example.com")

    unknown = client.post(REQUEST, json={"email": "nobody@example.com"})
    inactive = client.post(REQUEST, json={"email": "sleeping@example.com"})
    active = client.post(REQUEST, json={"email": known.email})

    assert unknown.status_code == inactive.status_code == active.status_code == 202
    assert unknown.json() == inactive.json() == active.json()
    assert [message["To"] for message in inbox.messages] == ["awake@example.com"]


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", ""],
)
def test_bad_reset_tokens_are_refused(client: TestClient, token: str) -> None:
    response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code in (400, 422)
    assert NEW_PASSWORD not in response.text


def test_an_access_token_is_not_a_reset_token(client: TestClient) -> None:
    make_user(email="confused@example.com")
    tokens = login(client, "confused@example.com")
    response = client.post(
        CONFIRM, json={"token": tokens["access_token"], "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400


def test_a_weak_new_password_is_refused(client: TestClient, inbox: Inbox, session: Session) -> None:
    user = make_user(email="weak-reset@example.com")
    _request(client, user.email)
    (token,) = inbox.tokens_for(user.email)
    response = client.post(CONFIRM, json={"token": token, "new_password": "12345678"})
    assert response.status_code == 422
    assert token not in response.text
    # The token is still good for a proper password.
    assert (
        client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204
    )


def test_without_smtp_the_mail_goes_to_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    make_user(email="logged@example.com")
    with caplog.at_level("INFO", logger="larder.emails"):
        _request(client, "logged@example.com")
    (record,) = [r for r in caplog.records if r.name == "larder.emails"]
    assert "logged@example.com" in record.getMessage()
    assert "token=" in record.getMessage()
