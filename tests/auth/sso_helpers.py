"""Helpers for the single sign-on tests: configuring providers, driving the redirect dance."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from auth.models import LoginSession, SSOIdentity
from auth.sso import STATE_KEY_PREFIX
from shared.settings import clear_settings_caches
from shared.stores import Store
from tests.auth.oidc_provider import RunningProvider, query_of
from users.models import User

SSO = "/api/v1/auth/sso"
CALLBACK = "http://127.0.0.1/api/v1/auth/sso/mock/callback"
CLIENT_ID = "larder-tests"


def configure_providers(monkeypatch: pytest.MonkeyPatch, provider: RunningProvider) -> None:
    """SSO_PROVIDERS with "mock" (the running provider) and "down" (nobody answers).

    Set before the application is built, which validates the setting at start-up.
    """
    providers = {
        "mock": {
            "discovery_url": provider.discovery_url,
            "client_id": CLIENT_ID,
            "client_secret": "provider-issued-secret",
        },
        # Nothing listens on the discard port of the loopback interface.
        "down": {
            "discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration",
            "client_id": CLIENT_ID,
            "client_secret": "unused",
        },
    }
    monkeypatch.setenv("SSO_PROVIDERS", json.dumps(providers))
    monkeypatch.setenv("SSO_HTTP_TIMEOUT_SECONDS", "2")
    clear_settings_caches()


def new_subject() -> str:
    return f"subject-{uuid.uuid4().hex[:12]}"


def start(client: TestClient, provider_name: str = "mock") -> str:
    """Larder's redirect to the provider."""
    response = client.get(f"{SSO}/{provider_name}/login", follow_redirects=False)
    assert response.status_code == 302, response.text
    location: str = response.headers["location"]
    return location


def with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {**query_of(url), **changes}
    kept = {name: value for name, value in query.items() if value is not None}
    return urlunsplit(parts._replace(query=urlencode(kept)))


def callback_url(client: TestClient, provider: RunningProvider, subject: str) -> str:
    """The URL the provider sends the browser back to after `subject` consents."""
    return provider.consent(start(client), subject)


def sign_in(client: TestClient, provider: RunningProvider, subject: str, **claims: Any) -> Any:
    provider.set_user(subject, **claims)
    return client.get(callback_url(client, provider, subject))


def counts(session: Session) -> tuple[int, ...]:
    tables: list[type[SQLModel]] = [User, SSOIdentity, LoginSession]
    return tuple(session.exec(select(func.count()).select_from(table)).one() for table in tables)


def stored_state(app: FastAPI, state: str) -> dict[str, str]:
    store: Store = app.state.store
    raw = asyncio.run(store.get(STATE_KEY_PREFIX + state))
    assert raw is not None
    entry: dict[str, str] = json.loads(raw)
    return entry
