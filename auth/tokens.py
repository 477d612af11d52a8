"""JSON Web Tokens (HS256 only, via joserfc) and opaque refresh tokens.

Every claim Larder writes is required on the way back in, and `alg` is pinned: a token signed
with another algorithm, `alg: none`, another audience or issuer, or another purpose is refused.

Two kinds of token name a login session: access tokens (type `access`), the API's bearer
tokens, and page tokens (type `page`), which only the pages' session cookie carries. Each is
refused where the other is expected, so a cookie's token is no bearer token and an API client's
token opens no cookie session.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from auth.settings import get_auth_settings
from shared.crud import MAX_ID
from shared.settings import get_app_settings
from users.models import User

ALGORITHM = "HS256"
TokenType = Literal["access", "page", "password_reset"]

SCOPE_RECIPES_WRITE = "recipes:write"
SCOPE_ADMIN = "admin"
SCOPES = {
    SCOPE_RECIPES_WRITE: "Create, change and delete your own recipes.",
    SCOPE_ADMIN: "Superuser powers: manage users and everyone's recipes.",
}


class InvalidToken(Exception):
    """The token is malformed, forged, expired, or not meant for this use."""


@dataclass(frozen=True)
class AccessClaims:
    """What an access token or a page token says: whose session it speaks for, and its scopes."""

    user_id: int
    session_id: str
    scopes: frozenset[str]
    token_id: str


def _key() -> OctKey:
    return OctKey.import_key(get_app_settings().secret_key.encode())


def _encode(claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, _key(), algorithms=[ALGORITHM])


def _decode(token: str, expected_type: TokenType) -> dict[str, Any]:
    settings = get_auth_settings()
    try:
        decoded = jwt.decode(token, _key(), algorithms=[ALGORITHM])
        if decoded.header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": settings.jwt_issuer},
            aud={"essential": True, "value": settings.jwt_audience},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
            type={"essential": True, "value": expected_type},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidToken(str(exc)) from exc
    return decoded.claims


def _base_claims(subject: int, token_type: TokenType, lifetime_seconds: int) -> dict[str, Any]:
    settings = get_auth_settings()
    now = int(time.time())
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(subject),
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": uuid.uuid4().hex,
        "type": token_type,
    }


def create_access_token(*, user_id: int, session_id: str, scopes: frozenset[str]) -> str:
    lifetime = get_auth_settings().access_token_expire_minutes * 60
    return _session_token("access", user_id, session_id, scopes, lifetime)


def create_page_token(
    *, user_id: int, session_id: str, scopes: frozenset[str], lifetime_seconds: int
) -> str:
    """The pages' cookie token for a session started on the sign-in form.

    It lives as long as its login session rather than being renewed: the session row is
    checked on every page, so renewing would only make a copied cookie look short-lived.
    """
    return _session_token("page", user_id, session_id, scopes, lifetime_seconds)


def _session_token(
    token_type: TokenType, user_id: int, session_id: str, scopes: frozenset[str], lifetime: int
) -> str:
    claims = _base_claims(user_id, token_type, lifetime)
    claims.update(sid=session_id, scope=" ".join(sorted(scopes)))
    return _encode(claims)


@dataclass(frozen=True, slots=True)
class _Verified:
    claims: AccessClaims
    not_before: float  # `iat` (or a later `nbf`)
    expires_at: float


# Access and page tokens that passed every check, by the token, its expected type and the
# settings it was checked against. A client sends the same token on every request for its 15
# minutes, and checking its HS256 signature and claims again costs more than the rest of a
# cached ideas request. What a check of the same bytes with the same key and settings would say
# cannot change, except with the clock: `exp`, `iat` and `nbf` are checked again on every use.
# Whether the login session is live is not part of this; callers check that in the database
# every time. Only valid tokens get in; when full, the cache starts over.
_VERIFIED_CAPACITY = 4096
_verified: dict[tuple[str, TokenType, str, str, str], _Verified] = {}


def read_access_token(token: str) -> AccessClaims:
    """The claims of a valid access token (an API bearer token; never a page token)."""
    return _read_session_token(token, "access")


def read_page_token(token: str) -> AccessClaims:
    """The claims of a valid page token (the pages' cookie; never an API access token)."""
    return _read_session_token(token, "page")


def _read_session_token(token: str, token_type: TokenType) -> AccessClaims:
    settings = get_auth_settings()
    secret_key = get_app_settings().secret_key
    key = (token, token_type, secret_key, settings.jwt_issuer, settings.jwt_audience)
    verified = _verified.get(key)
    if verified is None:
        verified = _verify_session_token(token, token_type)
        if len(_verified) >= _VERIFIED_CAPACITY:
            _verified.clear()
        _verified[key] = verified
        return verified.claims
    # The same comparisons as joserfc's on the first check.
    now = int(time.time())
    if verified.expires_at <= now:
        raise InvalidToken("expired_token: The token is expired")
    if verified.not_before > now:
        raise InvalidToken("invalid_claim: The token is not yet valid")
    return verified.claims


def _verify_session_token(token: str, token_type: TokenType) -> _Verified:
    claims = _decode(token, token_type)
    session_id, scope, subject = claims.get("sid"), claims.get("scope"), claims["sub"]
    if not isinstance(session_id, str) or not isinstance(scope, str):
        raise InvalidToken("missing session or scope")
    # A user id as Larder writes it: ASCII digits, within the id columns' range (a larger
    # number could not even be bound as an SQLite parameter).
    if not isinstance(subject, str) or not (subject.isascii() and subject.isdigit()):
        raise InvalidToken("bad subject")
    if not 1 <= int(subject) <= MAX_ID:
        raise InvalidToken("bad subject")
    access = AccessClaims(
        user_id=int(subject),
        session_id=session_id,
        scopes=frozenset(scope.split()),
        token_id=str(claims["jti"]),
    )
    not_before = max(claims["iat"], claims.get("nbf", claims["iat"]))
    return _Verified(access, not_before=not_before, expires_at=claims["exp"])


def password_reset_binding(user: User) -> str:
    """What a reset token is bound to: the account's security stamp and its password hash.

    The stamp is random and secret for every account, so a token cannot be made from public
    information; the hash (and the stamp, replaced whenever the password is set) make a token
    die once it is used or the password changes.
    """
    material = f"{user.security_stamp}\x00{user.hashed_password or ''}"
    return hashlib.sha256(material.encode()).hexdigest()


def create_password_reset_token(user: User) -> str:
    assert user.id is not None  # noqa: S101 - a stored user
    lifetime = get_auth_settings().password_reset_expire_minutes * 60
    claims = _base_claims(user.id, "password_reset", lifetime)
    claims["pwd"] = password_reset_binding(user)
    return _encode(claims)


def read_password_reset_token(token: str) -> tuple[int, str]:
    """The user id and the binding (see password_reset_binding) the token was issued with."""
    claims = _decode(token, "password_reset")
    subject, binding = claims["sub"], claims.get("pwd")
    if not isinstance(subject, str) or not subject.isdigit() or not isinstance(binding, str):
        raise InvalidToken("malformed reset token")
    return int(subject), binding


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(24)
