"""The browser's sign-in: the /login form, the cookie session, CSRF, sign-out and revocation.

The cookie holds a page session's page token: no API bearer token, never renewed, and never
opened by an API client's token.
"""

from __future__ import annotations

import time
from datetime import timedelta
from unittest import mock

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from auth.browser import LOGIN_NONCE_COOKIE, SESSION_COOKIE
from auth.models import PAGE_SIGN_IN, LoginSession
from auth.tokens import (
    AccessClaims,
    create_access_token,
    create_page_token,
    read_access_token,
    read_page_token,
)
from shared.models import utcnow
from shared.pages import CONTENT_SECURITY_POLICY
from shared.settings import clear_settings_caches
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.helpers import bearer, form_token, login, page_login
from tests.jwt_helpers import claims_of


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
    assert "path=/;" in nonce


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
    assert "path=/;" in cookie
    assert "secure" not in cookie  # plain http here; see the https test
    # The same login sessions as the API, marked as begun on the pages...
    [login_session] = _sessions_of(session, user.id)
    assert login_session.revoked_at is None
    assert login_session.method == PAGE_SIGN_IN
    # ...held by a page token, which lives as long as the session.
    page_token = client.cookies[SESSION_COOKIE]
    assert read_page_token(page_token).session_id == login_session.id
    claims = claims_of(page_token)
    assert claims["type"] == "page"
    assert claims["exp"] - claims["iat"] == 14 * 24 * 60 * 60
    assert "max-age=1209600" in cookie

    home = client.get("/")
    assert "page-cook@example.com" in home.text
    assert "Welcome back: you are signed in." in home.text
    assert 'action="/logout"' in home.text
    # The flash message shows once.
    assert "Welcome back" not in client.get("/").text


def test_over_https_the_cookies_are_host_only_and_secure(client: TestClient, app: FastAPI) -> None:
    user = make_user(email="https-cook@example.com")
    with TestClient(app, base_url="https://127.0.0.1") as https_client:
        login_page = https_client.get("/login")
        token = form_token(login_page.text)
        response = https_client.post(
            "/login",
            data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        home = https_client.get("/")
    assert response.status_code == 303
    for cookie in (
        _cookie_header(login_page.headers, f"__Host-{LOGIN_NONCE_COOKIE}"),
        _cookie_header(response.headers, f"__Host-{SESSION_COOKIE}"),
    ):
        # What browsers require of a __Host- cookie: Secure, Path=/ and no Domain.
        attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
        assert "secure" in attributes
        assert "path=/" in attributes
        assert not any(part.startswith("domain") for part in attributes)
    # The prefixed cookie is the one read over https.
    assert "https-cook@example.com" in home.text


def test_over_https_a_session_cookie_without_the_prefix_is_ignored(
    client: TestClient, app: FastAPI
) -> None:
    """A neighbouring site or a plain-http answer can plant a bare-named cookie, never a
    `__Host-` one: https pages read only the latter."""
    attacker = make_user(email="attacker@example.com")
    page_login(client, attacker.email)
    with TestClient(app, base_url="https://127.0.0.1") as https_client:
        https_client.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE], domain="127.0.0.1")
        home = https_client.get("/")
    assert "attacker@example.com" not in home.text
    assert 'href="/login"' in home.text


def test_over_https_a_planted_login_nonce_does_not_pass(
    client: TestClient, app: FastAPI, session: Session
) -> None:
    """Login CSRF: anyone can get a nonce and its form token from /login. Planted in a victim's
    browser with a bare name, it must not let a cross-site form sign that browser in."""
    attacker = make_user(email="attacker@example.com")
    login_page = client.get("/login")
    attackers_nonce = client.cookies[LOGIN_NONCE_COOKIE]
    with TestClient(app, base_url="https://127.0.0.1") as victims_browser:
        victims_browser.cookies.set(LOGIN_NONCE_COOKIE, attackers_nonce, domain="127.0.0.1")
        response = victims_browser.post(
            "/login",
            data={
                "email": attacker.email,
                "password": DEFAULT_PASSWORD,
                "csrf_token": form_token(login_page.text),
            },
            follow_redirects=False,
        )
    assert response.status_code == 403
    assert _sessions_of(session, attacker.id) == []


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


def test_a_session_revoked_elsewhere_signs_the_browser_out(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="revoked@example.com")
    page_login(client, user.email)
    # Changing the password through the API ends the user's other sessions, the page's too...
    api_tokens = login(client, user.email)
    changed = client.post(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(api_tokens),
    )
    assert changed.status_code == 204

    home = client.get("/")

    # ...which signs the browser out on its next page.
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


def test_the_cookies_token_is_no_bearer_token(client: TestClient) -> None:
    user = make_user()
    page_login(client, user.email)
    page_token = client.cookies[SESSION_COOKIE]
    client.cookies.clear()

    me = client.get("/api/v1/auth/me", headers=bearer(page_token))
    create = client.post(
        "/api/v1/recipes/",
        json={"label": "Cookie pie", "source": "x", "url": "https://a.b/c"},
        headers=bearer(page_token),
    )
    # The ideas route's cheaper sign-in check refuses it too.
    ideas = client.get("/api/v1/ideas/?t=week&limit=5", headers=bearer(page_token))

    for response in (me, create, ideas):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def _expired_access_token(user_id: int, claims: AccessClaims) -> str:
    with mock.patch("auth.tokens.time.time", return_value=time.time() - 3600):
        return create_access_token(
            user_id=user_id, session_id=claims.session_id, scopes=claims.scopes
        )


def _page_token(claims: AccessClaims, *, lifetime_seconds: int) -> str:
    return create_page_token(
        user_id=claims.user_id,
        session_id=claims.session_id,
        scopes=claims.scopes,
        lifetime_seconds=lifetime_seconds,
    )


@pytest.mark.parametrize("expired", [True, False])
def test_an_api_clients_access_token_opens_no_page_session(
    client: TestClient, session: Session, expired: bool
) -> None:
    """Else a cookie would stretch an API token past refresh-token rotation for the session's
    whole life: the API session is live, but its tokens are not the pages' to renew."""
    user = make_user(email="api-client@example.com")
    access_token = login(client, user.email)["access_token"]
    claims = read_access_token(access_token)
    assert user.id is not None
    token = _expired_access_token(user.id, claims) if expired else access_token
    client.cookies.set(SESSION_COOKIE, token, domain="127.0.0.1")

    home = client.get("/")

    assert "api-client@example.com" not in home.text
    assert 'href="/login"' in home.text
    # The browser is signed out, and no token of any kind comes back.
    cleared = _cookie_header(home.headers, SESSION_COOKIE)
    assert cleared.startswith(f'{SESSION_COOKIE}="";') or cleared.startswith(f"{SESSION_COOKIE}=;")
    assert "max-age=0" in cleared.lower()
    assert len(home.headers.get_list("set-cookie")) == 1
    # The API client's session goes on.
    login_session = session.get(LoginSession, claims.session_id)
    assert login_session is not None
    assert login_session.revoked_at is None


def test_a_page_token_for_an_api_session_opens_nothing(client: TestClient) -> None:
    user = make_user(email="api-session@example.com")
    claims = read_access_token(login(client, user.email)["access_token"])
    forged = _page_token(claims, lifetime_seconds=600)
    client.cookies.set(SESSION_COOKIE, forged, domain="127.0.0.1")

    home = client.get("/")

    assert "api-session@example.com" not in home.text
    assert "max-age=0" in _cookie_header(home.headers, SESSION_COOKIE).lower()


def test_the_cookie_ends_with_its_login_session(client: TestClient, session: Session) -> None:
    user = make_user(email="ended@example.com")
    page_login(client, user.email)
    [login_session] = _sessions_of(session, user.id)
    login_session.expires_at = utcnow() - timedelta(seconds=1)
    session.add(login_session)
    session.flush()

    home = client.get("/")

    assert "ended@example.com" not in home.text
    assert "max-age=0" in _cookie_header(home.headers, SESSION_COOKIE).lower()


def test_an_expired_page_token_is_not_renewed(client: TestClient, session: Session) -> None:
    user = make_user(email="stale@example.com")
    page_login(client, user.email)
    claims = read_page_token(client.cookies[SESSION_COOKIE])
    with mock.patch("auth.tokens.time.time", return_value=time.time() - 3600):
        stale = _page_token(claims, lifetime_seconds=60)
    client.cookies.set(SESSION_COOKIE, stale, domain="127.0.0.1")

    home = client.get("/")

    assert "stale@example.com" not in home.text
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
