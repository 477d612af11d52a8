"""Single sign-on and accounts: creating, linking (verified emails only), linked identities,
deactivated users; and provider configuration and failures.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from auth.models import SSOIdentity
from tests.auth.oidc_provider import RunningProvider
from tests.auth.sso_helpers import (
    SSO,
    counts,
    new_subject,
    sign_in,
)
from tests.factories import make_sso_identity, make_user
from tests.helpers import bearer, login

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.oidc.core.grants"),
    # Before the application is built: usefixtures come before the test's own fixtures.
    pytest.mark.usefixtures("sso_settings"),
]


# Accounts


def test_a_verified_email_links_to_the_existing_account(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    existing = make_user(email="linked@example.com")
    password_hash = existing.hashed_password
    subject = new_subject()

    response = sign_in(client, provider, subject, email="Linked@Example.com", email_verified=True)

    assert response.status_code == 200, response.text
    me = client.get("/api/v1/auth/me", headers=bearer(response.json())).json()
    assert me["id"] == existing.id
    identity = session.exec(select(SSOIdentity).where(col(SSOIdentity.subject) == subject)).one()
    assert identity.user_id == existing.id
    session.refresh(existing)
    assert existing.hashed_password == password_hash  # the password still works too
    login(client, "linked@example.com")


def test_an_unverified_email_is_not_linked_to_an_existing_account(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    make_user(email="victim@example.com")
    before = counts(session)

    response = sign_in(
        client, provider, new_subject(), email="victim@example.com", email_verified=False
    )

    assert response.status_code == 409
    assert "not verified" in response.json()["detail"]
    assert counts(session) == before


def test_an_email_without_a_verified_flag_counts_as_unverified(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    make_user(email="flagless@example.com")
    before = counts(session)
    # The provider reports the email but says nothing about verification.
    response = sign_in(client, provider, new_subject(), email="flagless@example.com")
    assert response.status_code == 409
    assert counts(session) == before


def test_an_unverified_email_creates_no_account(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    before = counts(session)
    response = sign_in(
        client, provider, new_subject(), email="unverified@example.com", email_verified=False
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The provider has not verified your email address; verify it there and try again"
    }
    assert counts(session) == before


def test_no_email_at_all_is_400(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    before = counts(session)
    response = sign_in(client, provider, new_subject(), name="No Email")
    assert response.status_code == 400
    assert "email" in response.json()["detail"]
    assert counts(session) == before


def test_a_linked_identity_signs_in_after_the_email_changed_at_the_provider(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    linked = make_user(email="before@example.com")
    subject = make_sso_identity(user_id=linked.id, email_at_link="before@example.com").subject
    # The new address even belongs to another account: the link, not the email, decides.
    make_user(email="after@example.com")

    response = sign_in(client, provider, subject, email="after@example.com", email_verified=True)

    assert response.status_code == 200, response.text
    me = client.get("/api/v1/auth/me", headers=bearer(response.json())).json()
    assert me["id"] == linked.id
    assert me["email"] == "before@example.com"
    links = session.exec(select(SSOIdentity).where(col(SSOIdentity.subject) == subject)).all()
    assert len(links) == 1


def test_a_deactivated_linked_user_cannot_sign_in(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    retired = make_user(email="retired@example.com", is_active=False)
    subject = make_sso_identity(user_id=retired.id).subject
    before = counts(session)

    response = sign_in(client, provider, subject, email="retired@example.com", email_verified=True)

    assert response.status_code == 400
    assert response.json() == {"detail": "This account is deactivated"}
    assert counts(session) == before


def test_a_verified_email_of_a_deactivated_user_is_refused_and_not_linked(
    client: TestClient, session: Session, provider: RunningProvider
) -> None:
    make_user(email="dormant@example.com", is_active=False)
    before = counts(session)
    response = sign_in(
        client, provider, new_subject(), email="dormant@example.com", email_verified=True
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "This account is deactivated"}
    assert counts(session) == before


def test_a_verified_email_of_a_superuser_is_refused_and_not_linked(
    client: TestClient,
    session: Session,
    provider: RunningProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = make_user(email="root@example.com", is_superuser=True)
    before = counts(session)
    subject = new_subject()

    with caplog.at_level("WARNING", logger="larder.sso"):
        response = sign_in(client, provider, subject, email="root@example.com", email_verified=True)

    assert response.status_code == 409
    assert "administrator" in response.json()["detail"]
    assert "access_token" not in response.text
    assert counts(session) == before
    assert not session.exec(select(SSOIdentity).where(col(SSOIdentity.subject) == subject)).all()
    (record,) = [r for r in caplog.records if r.name == "larder.sso"]
    assert "superuser" in record.getMessage()
    assert str(admin.id) in record.getMessage()
    # The administrator's password still signs in.
    login(client, "root@example.com")


# Providers


@pytest.mark.parametrize("route", ["login", "callback"])
def test_an_unknown_provider_is_404(client: TestClient, route: str) -> None:
    response = client.get(f"{SSO}/nobody/{route}?state=x&code=y", follow_redirects=False)
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown sign-in provider"}


def test_a_provider_that_is_down_is_502_not_500(client: TestClient) -> None:
    response = client.get(f"{SSO}/down/login", follow_redirects=False)
    assert response.status_code == 502
    assert "could not be reached" in response.json()["detail"]


def test_no_providers_are_configured_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from auth.settings import SSOSettings

    monkeypatch.delenv("SSO_PROVIDERS")
    assert SSOSettings(_env_file=None).sso_providers == {}


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (
            {
                "Bad Name": {
                    "discovery_url": "https://idp.example/.well-known/openid-configuration",
                    "client_id": "c",
                    "client_secret": "s",
                }
            },
            "provider name",
        ),
        (
            {"p": {"discovery_url": "http://idp.example/.well-known/openid-configuration"}},
            "https",
        ),
        (
            {
                "p": {
                    "discovery_url": "https://idp.example/.well-known/openid-configuration",
                    "client_id": "c",
                    "client_secret": "s",
                    "scopes": "email profile",
                }
            },
            "openid",
        ),
        (
            {
                "p": {
                    "discovery_url": "https://idp.example/oidc-metadata",
                    "client_id": "c",
                    "client_secret": "s",
                }
            },
            "issuer is required",
        ),
    ],
)
def test_malformed_provider_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, providers: dict[str, Any], message: str
) -> None:
    from pydantic import ValidationError

    from auth.settings import SSOSettings

    monkeypatch.setenv("SSO_PROVIDERS", json.dumps(providers))
    with pytest.raises(ValidationError, match=message):
        SSOSettings(_env_file=None)


def test_openapi_declares_the_sso_answers(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    login_answers = paths[f"{SSO}/{{provider}}/login"]["get"]["responses"]
    callback_answers = paths[f"{SSO}/{{provider}}/callback"]["get"]["responses"]
    assert {"302", "404", "502"} <= set(login_answers)
    assert {"200", "400", "404", "502"} <= set(callback_answers)
