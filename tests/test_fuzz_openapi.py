"""Every operation of the OpenAPI document, fuzzed in process with schemathesis.

Positive and negative data; a superuser's token (all scopes) on every request, so protected
routes are exercised past their auth; and the checks that the service never fails (5xx),
answers only with status codes and bodies its document declares, rejects invalid data, and
does not serve protected routes without credentials. Requests run inside the test's
rolled-back transaction, so the fuzzing leaves no data behind. Routes added later are covered
as soon as they are in the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import Session

from auth.service import available_scopes, start_session
from main import create_app
from reddit.settings import get_reddit_settings
from shared.database import get_session
from shared.settings import clear_settings_caches
from shared.stores import MemoryStore
from tests.factories import make_user
from tests.reddit.fake_reddit import serve_fake_reddit
from users.models import User

# Per operation and generation mode; enough to find the classic mistakes in seconds.
MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


APP = create_app()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
)


@pytest.fixture(scope="module")
def fake_reddit_url() -> Iterator[str]:
    with serve_fake_reddit() as (_fake, url):
        yield url


@pytest.fixture(autouse=True)
def ideas_from_a_fake_reddit(monkeypatch: pytest.MonkeyPatch, fake_reddit_url: str) -> None:
    """The ideas routes fetch from a fake Reddit on a loopback port, never the real one."""
    monkeypatch.setenv("REDDIT_BASE_URL", fake_reddit_url)
    monkeypatch.setenv("REDDIT_SUBREDDITS", "recipes,easyrecipes")
    clear_settings_caches()
    get_reddit_settings.cache_clear()


@pytest.fixture(autouse=True)
def app_on_the_test_transaction(session: Session, ideas_from_a_fake_reddit: None) -> Iterator[None]:
    def rolled_back_session() -> Iterator[Session]:
        try:
            yield session
        except Exception:
            session.rollback()  # ends the request's savepoint; the next example starts clean
            raise

    APP.dependency_overrides[get_session] = rolled_back_session
    # Schemathesis calls the app without running its lifespan: give it the store it opens.
    APP.state.store = MemoryStore()
    yield
    APP.dependency_overrides.clear()


@pytest.fixture
def superuser(session: Session) -> User:
    return make_user(is_superuser=True)


@schema.parametrize()
@settings(
    deadline=None,
    max_examples=MAX_EXAMPLES,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_every_operation_survives_fuzzing(case: Any, session: Session, superuser: User) -> None:
    # A fresh login session per example: an example that logs out or changes the password
    # must not take the credentials away from the next one.
    tokens = start_session(session, user=superuser, scopes=available_scopes(superuser))
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens.access_token}"}, checks=CHECKS
    )
