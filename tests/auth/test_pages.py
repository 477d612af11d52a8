"""The browser's sign-in: the /login form, the cookie session, CSRF, sign-out and revocation."""

from __future__ import annotations

import time
from unittest import mock

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from auth.browser import LOGIN_NONCE_COOKIE, SESSION_COOKIE
from auth.models import LoginSession
from auth.tokens import create_access_token, read_access_token
from shared.pages import CONTENT_SECURITY_POLICY
from shared.settings import clear_settings_caches
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, form_token, login, page_login


def _cookie_header(response_headers: httpx2.Headers, name: str) -> str:
    for header in response_headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}")


def _sessions_of(session: Session, user_id: int | None) -> list[LoginSession]:
    return list(session.exec(select(LoginSession).where(col(LoginSession.user_id) == user_id)))


def test_the_login_page_is_a_form_with_a_csrf_token(client: TestClient) -> None:
    response = client.get("/login")

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert '<form class="stacked" action="/login" method="post">' in response.text
    assert form_token(response.text)
    nonce = _cookie_header(response.headers, LOGIN_NONCE_COOKIE).lower()
    assert "httponly" in nonce
    assert "samesite=strict" in nonce
    assert "path=/login" in nonce


def test_form_login_starts_a_cookie_session_and_redirects_home(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="page-cook@example.com")
    token = form_token(client.get("/login").text)

    response = client.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = _cookie_header(response.headers, SESSION_COOKIE).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # plain http here; see the https test
    # The same login sessions as the API.
    [login_session] = _sessions_of(session, user.id)
    assert login_session.revoked_at is None
    assert login_session.method == "password"

    home = client.get("/")
    assert "page-cook@example.com" in home.text
    assert "Welcome back: you are signed in." in home.text
    assert 'action="/logout"' in home.text
    # The flash message shows once.
    assert "Welcome back" not in client.get("/").text


def test_the_session_cookie_is_secure_over_https(client: TestClient, app: FastAPI) -> None:
    user = make_user()
    with TestClient(app, base_url="https://127.0.0.1") as https_client:
        token = form_token(https_client.get("/login").text)
        response = https_client.post(
            "/login",
            data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
    assert response.status_code == 303
    assert "secure" in _cookie_header(response.headers, SESSION_COOKIE).lower()


@pytest.mark.parametrize("token", ["", "not-the-token", "missing"])
def test_login_without_a_valid_csrf_token_is_refused(
    client: TestClient, session: Session, token: str
) -> None:
    user = make_user()
    client.get("/login")
    data = {"email": user.email, "password": DEFAULT_PASSWORD}
    if token != "missing":
        data["csrf_token"] = token

    response = client.post("/login", data=data, follow_redirects=False)

    assert response.status_code == 403
    assert "This form has expired" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert _sessions_of(session, user.id) == []


def test_a_login_token_is_bound_to_its_browser(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    user = make_user()
    # A token from another browser's page (a cross-site attacker's own visit) does not pass.
    with TestClient(app, base_url="http://127.0.0.1") as attacker:
        stolen = form_token(attacker.get("/login").text)
    client.get("/login")

    response = client.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": stolen},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert _sessions_of(session, user.id) == []


def test_a_wrong_password_shows_a_message_on_the_page(client: TestClient) -> None:
    user = make_user(email="forgetful@example.com")
    token = form_token(client.get("/login").text)

    response = client.post(
        "/login",
        data={"email": user.email, "password": "not my password", "csrf_token": token},
    )

    assert response.status_code == 400
    assert "Incorrect email or password." in response.text
    assert 'value="forgetful@example.com"' in response.text
    assert "not my password" not in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_what_was_typed_into_the_form_is_escaped(client: TestClient) -> None:
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": '"><script>alert(1)</script>', "password": "x" * 8, "csrf_token": token},
    )
    assert "<script>alert(1)</script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text


def test_form_login_is_throttled_like_the_api(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES", "2")
    clear_settings_caches()
    user = make_user()
    # One failure through the API and one through the form: the counts are shared.
    failed = client.post("/api/v1/auth/login", data={"username": user.email, "password": "no"})
    assert failed.status_code == 400
    token = form_token(client.get("/login").text)
    wrong = {"email": user.email, "password": "wrong password", "csrf_token": token}
    assert client.post("/login", data=wrong).status_code == 400

    right = {"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token}
    response = client.post("/login", data=right, follow_redirects=False)

    assert response.status_code == 429
    assert "Too many attempts. Try again in" in response.text
    assert int(response.headers["retry-after"]) >= 1
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_signing_out_revokes_the_login_session(client: TestClient, session: Session) -> None:
    user = make_user()
    csrf = page_login(client, user.email)
    [login_session] = _sessions_of(session, user.id)

    response = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)

    assert response.status_code == 303
    assert "max-age=0" in _cookie_header(response.headers, SESSION_COOKIE).lower()
    session.refresh(login_session)
    assert login_session.revoked_at is not None
    assert login_session.revoked_reason == "logout"
    home = client.get("/")
    assert "You are signed out." in home.text
    assert 'href="/login"' in home.text


def test_signing_out_without_the_csrf_token_is_refused(
    client: TestClient, session: Session
) -> None:
    user = make_user()
    page_login(client, user.email)

    response = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)

    assert response.status_code == 403
    [login_session] = _sessions_of(session, user.id)
    session.refresh(login_session)
    assert login_session.revoked_at is None
    assert user.email in client.get("/").text


def test_a_session_revoked_elsewhere_signs_the_browser_out(client: TestClient) -> None:
    user = make_user(email="revoked@example.com")
    page_login(client, user.email)
    # The cookie holds the session's access token; ending the session through the API...
    access_token = client.cookies[SESSION_COOKIE]
    assert client.post("/api/v1/auth/logout", headers=bearer(access_token)).status_code == 204

    home = client.get("/")

    # ...signs the browser out on its next page.
    assert "revoked@example.com" not in home.text
    assert 'href="/login"' in home.text
    assert "max-age=0" in _cookie_header(home.headers, SESSION_COOKIE).lower()


def test_api_routes_ignore_the_session_cookie(client: TestClient) -> None:
    user = make_user()
    page_login(client, user.email)
    assert client.cookies.get(SESSION_COOKIE)

    me = client.get("/api/v1/auth/me")
    create = client.post(
        "/api/v1/recipes/", json={"label": "Cookie pie", "source": "x", "url": "https://a.b/c"}
    )

    assert me.status_code == 401
    assert me.headers["www-authenticate"] == "Bearer"
    assert create.status_code == 401


def test_an_expired_token_of_a_live_session_is_renewed(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="renewed@example.com")
    api_tokens = login(client, user.email)
    claims = read_access_token(api_tokens["access_token"])
    assert user.id is not None
    with mock.patch("auth.tokens.time.time", return_value=time.time() - 3600):
        expired = create_access_token(
            user_id=user.id, session_id=claims.session_id, scopes=claims.scopes
        )
    client.cookies.set(SESSION_COOKIE, expired, domain="127.0.0.1")

    home = client.get("/")

    assert "renewed@example.com" in home.text
    renewed = _cookie_header(home.headers, SESSION_COOKIE).split(";")[0].split("=", 1)[1]
    assert renewed != expired
    assert read_access_token(renewed).session_id == claims.session_id


def test_an_expired_token_of_an_ended_session_is_not_renewed(client: TestClient) -> None:
    user = make_user(email="ended@example.com")
    api_tokens = login(client, user.email)
    claims = read_access_token(api_tokens["access_token"])
    assert client.post("/api/v1/auth/logout", headers=bearer(api_tokens)).status_code == 204
    assert user.id is not None
    with mock.patch("auth.tokens.time.time", return_value=time.time() - 3600):
        expired = create_access_token(
            user_id=user.id, session_id=claims.session_id, scopes=claims.scopes
        )
    client.cookies.set(SESSION_COOKIE, expired, domain="127.0.0.1")

    home = client.get("/")

    assert "ended@example.com" not in home.text
    assert "max-age=0" in _cookie_header(home.headers, SESSION_COOKIE).lower()


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "x" * 500])
def test_a_bad_session_cookie_is_cleared(client: TestClient, cookie: str) -> None:
    client.cookies.set(SESSION_COOKIE, cookie, domain="127.0.0.1")
    home = client.get("/")
    assert home.status_code == 200
    assert 'href="/login"' in home.text
    assert "max-age=0" in _cookie_header(home.headers, SESSION_COOKIE).lower()


def test_the_login_page_sends_signed_in_people_home(client: TestClient) -> None:
    page_login(client, make_user().email)
    response = client.get("/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
