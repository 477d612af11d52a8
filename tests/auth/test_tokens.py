"""Access tokens: everything but a valid, live, HS256 access token in the header is 401."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from auth import tokens as auth_tokens
from auth.tokens import (
    InvalidToken,
    create_page_token,
    create_password_reset_token,
    read_access_token,
    read_page_token,
)
from shared.settings import clear_settings_caches
from tests.factories import make_user
from tests.helpers import bearer, login
from tests.jwt_helpers import claims_of, json_segment, sign, unsigned

ME = "/api/v1/auth/me"


@pytest.fixture
def tokens(client: TestClient) -> dict[str, Any]:
    make_user(email="holder@example.com")
    return login(client, "holder@example.com")


def _assert_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail"}


def test_a_valid_token_works(client: TestClient, tokens: dict[str, Any]) -> None:
    assert client.get(ME, headers=bearer(tokens)).status_code == 200


def test_the_token_carries_every_required_claim(tokens: dict[str, Any]) -> None:
    claims = claims_of(tokens["access_token"])
    assert {"sub", "exp", "iat", "jti", "aud", "iss", "scope", "type", "sid"} <= set(claims)
    assert claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 15 * 60


def test_no_token_is_401(client: TestClient) -> None:
    _assert_401(client.get(ME))
    _assert_401(client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"}))
    _assert_401(client.get(ME, headers={"Authorization": "Bearer"}))


def test_a_token_in_the_query_string_is_not_accepted(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    _assert_401(client.get(ME, params={"access_token": tokens["access_token"]}))
    _assert_401(client.get(ME, params={"token": tokens["access_token"]}))


def test_a_malformed_token_is_401(client: TestClient) -> None:
    for token in ("garbage", "a.b.c", "a.b", "%%.%%.%%", "x" * 5000):
        _assert_401(client.get(ME, headers=bearer(token)))


def test_a_tampered_token_is_401(client: TestClient, tokens: dict[str, Any]) -> None:
    header, payload, signature = tokens["access_token"].split(".")
    claims = claims_of(tokens["access_token"])
    claims["scope"] = "admin recipes:write"
    _assert_401(client.get(ME, headers=bearer(f"{header}.{json_segment(claims)}.{signature}")))
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    _assert_401(client.get(ME, headers=bearer(f"{header}.{payload}.{flipped}")))


def test_alg_none_is_401(client: TestClient, tokens: dict[str, Any]) -> None:
    token = unsigned(claims_of(tokens["access_token"]))
    _assert_401(client.get(ME, headers=bearer(token)))


def test_another_algorithm_is_401_even_with_the_right_key(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    claims = claims_of(tokens["access_token"])
    _assert_401(client.get(ME, headers=bearer(sign(claims, alg="HS512"))))
    _assert_401(client.get(ME, headers=bearer(sign(claims, alg="HS384"))))


def test_another_key_is_401(client: TestClient, tokens: dict[str, Any]) -> None:
    claims = claims_of(tokens["access_token"])
    _assert_401(client.get(ME, headers=bearer(sign(claims, key="another-key-" + "x" * 32))))


def test_the_re_signed_original_claims_still_work(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    """Guards the tests above: the forging helper makes tokens Larder accepts when all is right."""
    claims = claims_of(tokens["access_token"])
    assert client.get(ME, headers=bearer(sign(claims))).status_code == 200


@pytest.mark.parametrize(
    ("claim", "value"),
    [("aud", "someone-else"), ("iss", "evil-issuer"), ("type", "refresh"), ("sid", "nope")],
)
def test_wrong_claims_are_401(
    client: TestClient, tokens: dict[str, Any], claim: str, value: str
) -> None:
    claims = claims_of(tokens["access_token"])
    claims[claim] = value
    _assert_401(client.get(ME, headers=bearer(sign(claims))))


@pytest.mark.parametrize(
    "claim", ["sub", "exp", "iat", "jti", "aud", "iss", "type", "sid", "scope"]
)
def test_missing_claims_are_401(client: TestClient, tokens: dict[str, Any], claim: str) -> None:
    claims = claims_of(tokens["access_token"])
    del claims[claim]
    _assert_401(client.get(ME, headers=bearer(sign(claims))))


@pytest.mark.parametrize("subject", ["0", "-1", "9" * 30, "\u00b2", "1.5", ""])
def test_a_subject_that_is_no_user_id_is_401(
    client: TestClient, tokens: dict[str, Any], subject: str
) -> None:
    claims = claims_of(tokens["access_token"])
    claims["sub"] = subject
    _assert_401(client.get(ME, headers=bearer(sign(claims))))


def test_an_expired_token_is_401(client: TestClient, tokens: dict[str, Any]) -> None:
    claims = claims_of(tokens["access_token"])
    claims["iat"] = int(time.time()) - 3600
    claims["exp"] = int(time.time()) - 60
    _assert_401(client.get(ME, headers=bearer(sign(claims))))


def test_a_refresh_token_is_not_an_access_token(client: TestClient, tokens: dict[str, Any]) -> None:
    _assert_401(client.get(ME, headers=bearer(tokens["refresh_token"])))


def test_a_reset_token_is_not_an_access_token(client: TestClient) -> None:
    user = make_user(email="reset-holder@example.com")
    reset = create_password_reset_token(user)
    _assert_401(client.get(ME, headers=bearer(reset)))


def test_tokens_of_deactivated_or_deleted_users_are_401(
    client: TestClient, session: Session
) -> None:
    inactive = make_user(email="soon-inactive@example.com")
    deleted = make_user(email="soon-deleted@example.com")
    inactive_tokens = login(client, inactive.email)
    deleted_tokens = login(client, deleted.email)

    inactive.is_active = False
    session.add(inactive)
    session.delete(deleted)
    session.flush()

    _assert_401(client.get(ME, headers=bearer(inactive_tokens)))
    _assert_401(client.get(ME, headers=bearer(deleted_tokens)))


def test_read_access_token_exposes_the_session(tokens: dict[str, Any]) -> None:
    claims = read_access_token(tokens["access_token"])
    assert claims.session_id == claims_of(tokens["access_token"])["sid"]
    assert claims.scopes == {"recipes:write"}


# A checked token is remembered (auth/tokens.py): the clock and the key still decide.


def test_a_token_checked_before_is_refused_once_it_expires(
    client: TestClient, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    expires_at = claims_of(tokens["access_token"])["exp"]
    monkeypatch.setattr(time, "time", lambda: float(expires_at))
    _assert_401(client.get(ME, headers=bearer(tokens)))
    with pytest.raises(InvalidToken, match="expired"):
        read_access_token(tokens["access_token"])


def test_a_token_checked_before_is_refused_while_the_clock_says_it_is_not_yet_issued(
    client: TestClient, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    issued_at = claims_of(tokens["access_token"])["iat"]
    monkeypatch.setattr(time, "time", lambda: float(issued_at - 600))
    with pytest.raises(InvalidToken, match="not yet valid"):
        read_access_token(tokens["access_token"])
    _assert_401(client.get(ME, headers=bearer(tokens)))


def test_a_token_issued_in_the_future_is_refused(
    client: TestClient, tokens: dict[str, Any]
) -> None:
    claims = claims_of(tokens["access_token"])
    early = sign({**claims, "iat": int(time.time()) + 600})
    with pytest.raises(InvalidToken):
        read_access_token(early)
    _assert_401(client.get(ME, headers=bearer(early)))


def test_access_and_page_tokens_are_not_interchangeable(tokens: dict[str, Any]) -> None:
    claims = read_access_token(tokens["access_token"])
    page_token = create_page_token(
        user_id=claims.user_id,
        session_id=claims.session_id,
        scopes=claims.scopes,
        lifetime_seconds=600,
    )
    assert claims_of(page_token)["type"] == "page"
    # Each is refused as the other, even once the other reading has remembered it.
    assert read_page_token(page_token).session_id == claims.session_id
    with pytest.raises(InvalidToken):
        read_access_token(page_token)
    with pytest.raises(InvalidToken):
        read_page_token(tokens["access_token"])


def test_a_token_checked_before_is_refused_once_the_secret_key_changes(
    client: TestClient, tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(ME, headers=bearer(tokens)).status_code == 200
    monkeypatch.setenv("SECRET_KEY", "a-rotated-secret-key-" + "y" * 32)
    clear_settings_caches()
    with pytest.raises(InvalidToken):
        read_access_token(tokens["access_token"])
    _assert_401(client.get(ME, headers=bearer(tokens)))


def test_remembered_tokens_are_bounded(
    tokens: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_tokens, "_VERIFIED_CAPACITY", 3)
    auth_tokens._verified.clear()
    claims = claims_of(tokens["access_token"])
    for n in range(10):
        read_access_token(sign({**claims, "jti": f"token-{n}"}))
        assert len(auth_tokens._verified) <= 3
