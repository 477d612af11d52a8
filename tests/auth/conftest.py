"""Fixtures for the auth tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.oidc_provider import RunningProvider, run_provider
from tests.auth.sso_helpers import configure_providers


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[RunningProvider]:
    """A real OpenID Connect provider on 127.0.0.1, started once for the tests that ask."""
    with run_provider() as running:
        yield running


@pytest.fixture
def sso_settings(oidc_provider: RunningProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SSO_PROVIDERS naming the running provider; request it before the app is built."""
    configure_providers(monkeypatch, oidc_provider)
    yield
    oidc_provider.rewriter.reset()


@pytest.fixture
def provider(oidc_provider: RunningProvider) -> RunningProvider:
    return oidc_provider
