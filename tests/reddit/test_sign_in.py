"""The ideas route's sign-in check (`SignedIn`): the same checks and answers as `CurrentUser`.

Every credential `/auth/me` refuses (checked by `authenticate`, the ORM path) the ideas route
refuses with the same status, body and `WWW-Authenticate`; a session that is logged out, revoked
or expired, or a user who is deactivated or deleted, is refused on the very next request. The
last tests run the check through the process's own reader, as in production.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col

from auth.models import LoginSession
from auth.tokens import create_access_token, create_password_reset_token, read_access_token
from reddit.settings import get_reddit_settings
from shared import reads
from shared.models import utcnow
from shared.settings import clear_settings_caches
from tests.factories import DEFAULT_PASSWORD, make_login_session, make_user
from tests.helpers import LIVE_EMAIL_DOMAIN, access_token_of, bearer, live_email, login
from tests.jwt_helpers import claims_of, json_segment, sign, unsigned, with_claims
from tests.reddit.fake_reddit import FakeReddit
from users.models import User

IDEAS = "/api/v1/ideas/"
ME = "/api/v1/auth/me"
REJECTED = {"detail": "Could not validate credentials"}


def _flipped_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{signature[:-2] + ('AA' if signature[-2:] != 'AA' else 'BB')}"


def _answer(response: Any) -> tuple[int, Any, str | None]:
    """Status, body and WWW-Authenticate (from an httpx2 or a TestClient response)."""
    return response.status_code, response.json(), response.headers.get("www-authenticate")


@pytest.fixture
def tokens(client: TestClient) -> dict[str, Any]:
    make_user(email="idea-reader@example.com")
    return login(client, "idea-reader@example.com")


BAD_CREDENTIALS: dict[str, Any] = {
    "no header (the token in the query string)": lambda t: {},
    "basic scheme": lambda t: {"Authorization": "Basic dXNlcjpwYXNz"},
    "empty bearer": lambda t: {"Authorization": "Bearer"},
    "garbage": lambda t: bearer("garbage"),
    "three dots": lambda t: bearer("a.b.c"),
    "huge": lambda t: bearer("x" * 5000),
    "bad signature": lambda t: bearer(_flipped_signature(t["access_token"])),
    "another key": lambda t: bearer(
        sign(claims_of(t["access_token"]), key="another-key-" + "x" * 32)
    ),
    "alg none": lambda t: bearer(unsigned(claims_of(t["access_token"]))),
    "HS512": lambda t: bearer(sign(claims_of(t["access_token"]), alg="HS512")),
    "tampered scope": lambda t: bearer(
        ".".join(
            [
                t["access_token"].split(".")[0],
                json_segment({**claims_of(t["access_token"]), "scope": "admin recipes:write"}),
                t["access_token"].split(".")[2],
            ]
        )
    ),
    "wrong audience": lambda t: bearer(with_claims(t["access_token"], aud="someone-else")),
    "wrong issuer": lambda t: bearer(with_claims(t["access_token"], iss="evil-issuer")),
    "refresh type": lambda t: bearer(with_claims(t["access_token"], type="refresh")),
    "no session id": lambda t: bearer(with_claims(t["access_token"], sid=None)),
    "unknown session": lambda t: bearer(with_claims(t["access_token"], sid="nope")),
    "no expiry": lambda t: bearer(with_claims(t["access_token"], exp=None)),
    "expired": lambda t: bearer(
        with_claims(t["access_token"], iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    ),
    "issued in the future": lambda t: bearer(
        with_claims(t["access_token"], iat=int(time.time()) + 3600)
    ),
    "another user's id": lambda t: bearer(with_claims(t["access_token"], sub="2000000000")),
    "an id beyond any integer": lambda t: bearer(with_claims(t["access_token"], sub="9" * 30)),
    "a non-ASCII digit id": lambda t: bearer(with_claims(t["access_token"], sub="\u00b2")),
    "a zero id": lambda t: bearer(with_claims(t["access_token"], sub="0")),
    "refresh token": lambda t: bearer(t["refresh_token"]),
}


@pytest.mark.parametrize("credentials", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_the_ideas_route_refuses_what_auth_me_refuses_with_the_same_answer(
    client: TestClient, tokens: dict[str, Any], credentials: Any
) -> None:
    headers = credentials(tokens)
    params = {"access_token": tokens["access_token"]}
    from_me = client.get(ME, headers=headers, params=params)
    from_ideas = client.get(IDEAS, headers=headers, params=params)
    assert from_me.status_code == 401
    assert _answer(from_ideas) == _answer(from_me)
    assert from_ideas.headers["www-authenticate"] == "Bearer"
    assert from_ideas.json() in ({"detail": "Not authenticated"}, REJECTED)


def test_a_password_reset_token_is_not_an_access_token(client: TestClient) -> None:
    user = make_user(email="reset-reader@example.com")
    reset = create_password_reset_token(user)
    response = client.get(IDEAS, headers=bearer(reset))
    assert _answer(response) == (401, REJECTED, "Bearer")


def test_a_token_for_another_users_session_is_refused(client: TestClient) -> None:
    """The session must belong to the token's user: a token naming someone else's session
    (which only a holder of the key could make) is refused."""
    owner = make_user(email="session-owner@example.com")
    other = make_user(email="session-borrower@example.com")
    assert other.id is not None
    owner_session = make_login_session(user_id=owner.id)
    forged = create_access_token(user_id=other.id, session_id=owner_session.id, scopes=frozenset())
    assert _answer(client.get(IDEAS, headers=bearer(forged))) == (401, REJECTED, "Bearer")


def test_a_logged_out_session_is_refused_on_the_next_request(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    # Past authentication, the route reaches for Reddit (nothing listens there): 502, not 401.
    assert client.get(IDEAS, headers=bearer(tokens)).status_code == 502
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    assert _answer(client.get(IDEAS, headers=bearer(tokens))) == (401, REJECTED, "Bearer")


def test_a_revoked_session_is_refused_and_other_sessions_are_not(
    client: TestClient, session: Session
) -> None:
    user = make_user(email="two-tabs@example.com")
    revoked = make_login_session(user_id=user.id, revoked_at=utcnow(), revoked_reason="test")
    kept = make_login_session(user_id=user.id)
    refused = client.get(IDEAS, headers=bearer(access_token_of(revoked)))
    assert _answer(refused) == (401, REJECTED, "Bearer")
    assert client.get(IDEAS, headers=bearer(access_token_of(kept))).status_code == 502


def test_an_expired_login_session_is_refused(client: TestClient, session: Session) -> None:
    user = make_user(email="long-ago@example.com")
    expired = make_login_session(user_id=user.id, expires_at=utcnow() - timedelta(seconds=1))
    refused = client.get(IDEAS, headers=bearer(access_token_of(expired)))
    assert _answer(refused) == (401, REJECTED, "Bearer")


def test_a_password_change_refuses_the_other_sessions(client: TestClient) -> None:
    make_user(email="new-password@example.com")
    current, other = (login(client, "new-password@example.com") for _ in range(2))
    response = client.post(
        "/api/v1/users/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": "another long passphrase"},
        headers=bearer(current),
    )
    assert response.status_code == 204
    assert _answer(client.get(IDEAS, headers=bearer(other))) == (401, REJECTED, "Bearer")
    assert client.get(IDEAS, headers=bearer(current)).status_code == 502


def test_a_deactivated_user_is_refused(client: TestClient, session: Session) -> None:
    """Only the flag changes (no session is revoked): the check reads the user's state."""
    user = make_user(email="benched-reader@example.com")
    tokens = login(client, user.email)
    user.is_active = False
    session.add(user)
    session.flush()
    assert _answer(client.get(IDEAS, headers=bearer(tokens))) == (401, REJECTED, "Bearer")


def test_a_deleted_user_is_refused(client: TestClient, session: Session) -> None:
    user = make_user(email="gone-reader@example.com")
    tokens = login(client, user.email)
    session.delete(user)
    session.flush()
    assert _answer(client.get(IDEAS, headers=bearer(tokens))) == (401, REJECTED, "Bearer")


# Through the process's own reader (SQLite on the event loop, or pooled psycopg connections),
# with committed users, as in production.


@pytest.fixture
async def live_larder(
    reddit_env: pytest.MonkeyPatch, fake_reddit: FakeReddit, engine: Engine
) -> AsyncIterator[httpx2.AsyncClient]:
    from main import create_app

    clear_settings_caches()
    get_reddit_settings.cache_clear()
    reads._process_reader = None
    app = create_app()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1"
            ) as client,
        ):
            yield client
    finally:
        if isinstance(reads._process_reader, reads.SqliteReader):
            reads._process_reader.close()
        reads._process_reader = None
        with Session(engine) as session:
            session.exec(delete(User).where(col(User.email).endswith(LIVE_EMAIL_DOMAIN)))
            session.commit()


async def _signed_up(client: httpx2.AsyncClient) -> tuple[str, dict[str, str]]:
    email = live_email()
    signup = await client.post("/api/v1/auth/signup", json={"email": email, "password": "x" * 12})
    assert signup.status_code == 201, signup.text
    form = {"username": email, "password": "x" * 12}
    response = await client.post("/api/v1/auth/login", data=form)
    assert response.status_code == 200, response.text
    return email, bearer(response.json())


@pytest.fixture
def committed(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.mark.anyio
async def test_the_process_reader_serves_a_signed_in_user_and_refuses_a_logout(
    live_larder: httpx2.AsyncClient,
) -> None:
    _, headers = await _signed_up(live_larder)
    for _ in range(7):  # past psycopg's prepare threshold
        response = await live_larder.get(IDEAS, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["errors"] == {}
    assert (await live_larder.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    refused = await live_larder.get(IDEAS, headers=headers)
    assert _answer(refused) == (401, REJECTED, "Bearer")


@pytest.mark.anyio
async def test_the_process_reader_refuses_a_user_deactivated_a_moment_ago(
    live_larder: httpx2.AsyncClient, committed: Session
) -> None:
    email, headers = await _signed_up(live_larder)
    assert (await live_larder.get(IDEAS, headers=headers)).status_code == 200
    committed.exec(update(User).where(col(User.email) == email).values(is_active=False))
    committed.commit()
    refused = await live_larder.get(IDEAS, headers=headers)
    assert _answer(refused) == (401, REJECTED, "Bearer")


@pytest.mark.anyio
async def test_the_process_reader_refuses_an_expired_login_session(
    live_larder: httpx2.AsyncClient, committed: Session
) -> None:
    _, headers = await _signed_up(live_larder)
    session_id = read_access_token(headers["Authorization"].split()[1]).session_id
    assert (await live_larder.get(IDEAS, headers=headers)).status_code == 200
    committed.exec(
        update(LoginSession)
        .where(col(LoginSession.id) == session_id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    committed.commit()
    refused = await live_larder.get(IDEAS, headers=headers)
    assert _answer(refused) == (401, REJECTED, "Bearer")
