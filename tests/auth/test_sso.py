"""Single sign-on against a real OpenID Connect provider running on 127.0.0.1: the redirect
dance, single-use state, and the ID token checks.

Larder is driven with its TestClient (which keeps cookies, as a browser would) and the provider
with an HTTP client: start at /login, submit the provider's authorization form, follow its
redirect to Larder's callback.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from sqlmodel import Session, col, select

from auth.models import LoginSession, SSOIdentity
from auth.sso import STATE_KEY_PREFIX
from auth.tokens import create_password_reset_token
from tests.auth.oidc_provider import RunningProvider, query_of
from tests.auth.sso_helpers import (
    CALLBACK,
    CLIENT_ID,
    SSO,
    callback_url,
    counts,
    new_subject,
    sign_in,
    start,
    stored_state,
    with_query,
)
from tests.helpers import bearer, login
from users.models import User

# The provider's authlib server uses an API authlib deprecates; Larder's code is not involved.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.oidc.core.grants"),
    # Before the application is built: usefixtures come before the test's own fixtures.
    pytest.mark.usefixtures("sso_settings"),
]


# The redirect dance


def test_login_redirects_with_state_nonce_and_an_s256_challenge(
    client: TestClient, app: FastAPI, provider: RunningProvider
) -> None:
    response = client.get(f"{SSO}/mock/login", follow_redirects=False)

    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    assert location.startswith(f"{provider.base_url}/oauth2/authorize?")
    query = query_of(location)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"].split() == ["openid", "email", "profile"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    entry = stored_state(app, query["state"])
    assert entry["nonce"] == query["nonce"]
    assert entry["provider"] == "mock"
    assert entry["redirect_uri"] == CALLBACK
    digest = hashlib.sha256(entry["code_verifier"].encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/api/v1/auth/sso/mock/callback" in cookie


def test_each_login_gets_its_own_state_and_nonce(client: TestClient) -> None:
    first, second = query_of(start(client)), query_of(start(client))
    assert first["state"] != second["state"]
    assert first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


def test_the_whole_dance_signs_in_a_new_user(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(
        subject,
        email="New.Cook@Example.com",
        email_verified=True,
        given_name="Ada",
        family_name="Lovelace",
    )
    authorization_url = start(client)
    back = provider.consent(authorization_url, subject)
    assert back.startswith(CALLBACK + "?")
    assert query_of(back)["state"] == query_of(authorization_url)["state"]
    assert "code" in query_of(back)

    response = client.get(back)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert tokens["token_type"] == "bearer"
    assert tokens["scope"] == "recipes:write"
    me = client.get("/api/v1/auth/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["email"] == "new.cook@example.com"
    assert me.json()["first_name"] == "Ada"
    assert me.json()["surname"] == "Lovelace"
    user = session.exec(select(User).where(col(User.email) == "new.cook@example.com")).one()
    assert user.hashed_password is None
    identity = session.exec(select(SSOIdentity).where(col(SSOIdentity.subject) == subject)).one()
    assert (identity.provider, identity.user_id) == ("mock", user.id)
    assert identity.email_at_link == "new.cook@example.com"
    methods = session.exec(
        select(LoginSession.method).where(col(LoginSession.user_id) == user.id)
    ).all()
    assert methods == ["sso:mock"]
    # The refresh token works like any other.
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200


def test_a_new_sso_user_can_choose_a_password_by_reset(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    response = sign_in(
        client, provider, new_subject(), email="reset-me@example.com", email_verified=True
    )
    assert response.status_code == 200, response.text
    user = session.exec(select(User).where(col(User.email) == "reset-me@example.com")).one()
    token = create_password_reset_token(user)
    confirm = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "a fresh phrase for larder"},
    )
    assert confirm.status_code == 204, confirm.text
    login(client, "reset-me@example.com", "a fresh phrase for larder")


def test_scopes_are_those_of_a_password_login(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    first = sign_in(client, provider, subject, email="boss-sso@example.com", email_verified=True)
    assert first.status_code == 200, first.text
    assert first.json()["scope"] == "recipes:write"
    # Promoted after the identity was linked (an email never links to a superuser).
    user = session.exec(select(User).where(col(User.email) == "boss-sso@example.com")).one()
    user.is_superuser = True
    session.add(user)
    session.flush()

    response = client.get(callback_url(client, provider, subject))

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "admin recipes:write"


# State


def test_missing_state_is_400_and_creates_nothing(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="no-state@example.com", email_verified=True)
    before = counts(session)
    url = with_query(callback_url(client, provider, subject), state=None)

    response = client.get(url)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid or expired sign-in state; start the sign-in again"
    }
    assert counts(session) == before


def test_wrong_state_is_400_and_creates_nothing(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="wrong-state@example.com", email_verified=True)
    before = counts(session)
    url = with_query(callback_url(client, provider, subject), state="forged-" + "x" * 40)

    assert client.get(url).status_code == 400
    assert counts(session) == before


def test_replayed_state_is_400_and_signs_in_only_once(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="replay@example.com", email_verified=True)
    url = callback_url(client, provider, subject)
    assert client.get(url).status_code == 200
    after_first = counts(session)

    replay = client.get(url)

    assert replay.status_code == 400
    assert replay.json()["detail"] == "Invalid or expired sign-in state; start the sign-in again"
    assert counts(session) == after_first


def test_a_state_is_spent_even_by_a_failed_callback(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="spent@example.com", email_verified=True)
    url = callback_url(client, provider, subject)
    assert client.get(with_query(url, code="not-the-code")).status_code == 400
    before = counts(session)
    assert client.get(url).status_code == 400
    assert counts(session) == before


def test_a_callback_in_another_browser_is_refused(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="elsewhere@example.com", email_verified=True)
    url = callback_url(client, provider, subject)
    client.cookies.clear()  # the victim's browser never started this sign-in
    before = counts(session)

    response = client.get(url)

    assert response.status_code == 400
    assert counts(session) == before


def test_an_expired_state_is_refused(
    client: TestClient, session: Session, provider: RunningProvider, app: FastAPI
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="slow@example.com", email_verified=True)
    url = callback_url(client, provider, subject)
    asyncio.run(app.state.store.delete(STATE_KEY_PREFIX + query_of(url)["state"]))
    before = counts(session)
    assert client.get(url).status_code == 400
    assert counts(session) == before


# What the provider sends


def test_a_refusal_at_the_provider_is_400_with_a_clear_message(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    before = counts(session)
    url = provider.deny(start(client))
    assert query_of(url)["error"] == "access_denied"

    response = client.get(url)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Sign-in was cancelled or refused at the provider (access_denied)"
    }
    assert counts(session) == before


def test_provider_error_text_is_never_echoed(client: TestClient) -> None:
    url = with_query(CALLBACK, error="<script>", error_description="Call +1 555 for help")
    response = client.get(url)
    assert response.status_code == 400
    assert "script" not in response.text
    assert "555" not in response.text


def test_an_id_token_for_another_nonce_is_refused(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="nonce@example.com", email_verified=True)
    # The provider is asked (and issues its token) for a nonce that is not this sign-in's.
    authorization_url = with_query(start(client), nonce="someone-elses-nonce")
    before = counts(session)

    response = client.get(provider.consent(authorization_url, subject))

    assert response.status_code == 400
    assert response.json() == {"detail": "The provider's ID token is not valid for this sign-in"}
    assert counts(session) == before


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"aud": "another-client"}, id="wrong-audience"),
        pytest.param({"aud": ["another-client", CLIENT_ID]}, id="shared-audience-without-azp"),
        pytest.param({"iss": "http://127.0.0.1:1"}, id="another-issuer"),
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
        pytest.param({"nonce": None}, id="no-nonce"),
    ],
)
def test_an_id_token_with_wrong_claims_is_refused(
    client: TestClient, session: Session, provider: RunningProvider, changes: dict[str, Any]
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="claims@example.com", email_verified=True)
    provider.rewriter.claim_changes = changes
    before = counts(session)

    response = client.get(callback_url(client, provider, subject))

    assert response.status_code == 400
    assert response.json() == {"detail": "The provider's ID token is not valid for this sign-in"}
    assert counts(session) == before


def test_an_id_token_signed_with_another_key_is_refused(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="forged@example.com", email_verified=True)
    provider.rewriter.other_key = RSAKey.generate_key(2048)
    before = counts(session)

    response = client.get(callback_url(client, provider, subject))

    assert response.status_code == 400
    assert counts(session) == before


def test_the_rewriter_itself_keeps_tokens_valid(
    client: TestClient, provider: RunningProvider
) -> None:
    """Guards the tests above: re-signing with the provider's key and no change still works."""
    provider.rewriter.claim_changes = {}
    response = sign_in(
        client, provider, new_subject(), email="same@example.com", email_verified=True
    )
    assert response.status_code == 200, response.text


def test_an_answer_naming_another_issuer_is_refused(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    subject = new_subject()
    provider.set_user(subject, email="mixup@example.com", email_verified=True)
    url = with_query(callback_url(client, provider, subject), iss="https://evil.example")
    before = counts(session)
    response = client.get(url)
    assert response.status_code == 400
    assert counts(session) == before
