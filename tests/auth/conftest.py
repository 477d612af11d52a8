"""Fixtures for the auth tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.oidc_provider import RunningProvider, run_provider


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[RunningProvider]:
    """A real OpenID Connect provider on 127.0.0.1, started once for the tests that ask."""
    with run_provider() as running:
        yield running
