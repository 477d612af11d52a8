"""Helpers for tests that sign in."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from auth.models import LoginSession
from auth.tokens import create_access_token
from tests.factories import DEFAULT_PASSWORD

LIVE_EMAIL_DOMAIN = "@live-tests.example.com"


def live_email() -> str:
    """A unique address that the live_client fixture cleans up after."""
    return f"cook-{uuid.uuid4().hex[:12]}{LIVE_EMAIL_DOMAIN}"


def login(
    client: TestClient,
    email: str,
    password: str = DEFAULT_PASSWORD,
    *,
    scope: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    form = {"username": email, "password": password}
    if scope is not None:
        form["scope"] = scope
    response = client.post("/api/v1/auth/login", data=form, headers=headers)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def access_token_of(login_session: LoginSession) -> str:
    """An access token of an existing login session (made, say, by make_login_session)."""
    return create_access_token(
        user_id=login_session.user_id,
        session_id=login_session.id,
        scopes=frozenset(login_session.scope.split()),
    )


def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
    token = tokens if isinstance(tokens, str) else tokens["access_token"]
    return {"Authorization": f"Bearer {token}"}


def signup(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/signup", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = _FORM_TOKEN.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


def page_login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    """Sign a browser-like client in through the /login form; returns its session's CSRF token."""
    token = form_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return form_token(client.get("/recipes/new").text)
