"""The browser's cookie session and its CSRF tokens.

A form sign-in starts an ordinary login session (the same `LoginSession` rows as the API, so
logging out, changing the password or deactivating the account ends it too) and keeps that
session's access token in an HttpOnly, SameSite=Lax cookie. Each page request checks the token
and its session in the database; a revoked or expired session signs the browser out.

Access tokens live 15 minutes. When the cookie's token has expired but its signature is good
and its login session is still live, the page mints a fresh access token for that session
instead of rotating a refresh token: the session row is already checked on every request, and
refresh-token rotation would read two tabs renewing at once as token theft and end the session.
A session still ends at its absolute expiry (`REFRESH_TOKEN_EXPIRE_DAYS`).

What a page session may do is what its login session's scopes allow, by the same rule as the
API (`auth.service.scopes_allow`).

CSRF: every form carries a token that is an HMAC (keyed by SECRET_KEY) of what the browser is
bound to: its login session id once signed in, or a random pre-session nonce kept in a
SameSite=Strict cookie for the sign-in form. A cross-site page can neither read the token nor
forge it, and a nonce cookie planted by a neighbouring site does not help without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from fastapi import Request, Response
from sqlmodel import Session

from auth import service as auth_service
from auth.models import LoginSession
from auth.settings import get_auth_settings
from auth.tokens import (
    SCOPE_ADMIN,
    SCOPE_RECIPES_WRITE,
    InvalidToken,
    create_access_token,
    read_access_token,
)
from shared.models import utcnow
from shared.pages import is_https
from shared.settings import get_app_settings
from users.models import User

ResponseT = TypeVar("ResponseT", bound=Response)

SESSION_COOKIE = "larder_session"
LOGIN_NONCE_COOKIE = "larder_login_nonce"
LOGIN_NONCE_PATH = "/login"
LOGIN_NONCE_MAX_AGE_SECONDS = 2 * 60 * 60
_NONCE_BYTES = 32
_SANE_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)


def _mac(purpose: str, value: str) -> str:
    key = get_app_settings().secret_key.encode()
    digest = hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _matches(expected: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(expected.encode(), (submitted or "").encode())


def session_csrf_token(session_id: str) -> str:
    return _mac("larder-csrf", session_id)


def login_csrf_token(nonce: str) -> str:
    return _mac("larder-login-csrf", nonce)


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page: a signed-in user with their login session, or nobody."""

    user: User | None = None
    login_session: LoginSession | None = None
    # The login session's scopes.
    scopes: frozenset[str] = frozenset()
    secure: bool = False
    # Cookie work the page's response must carry: a renewed token, or signing the browser out.
    renewed_token: str | None = field(default=None, repr=False)
    sign_out: bool = False
    # The token every form of this signed-in browser carries.
    csrf_token: str | None = field(default=None, repr=False)

    def _may(self, *needed: str) -> bool:
        return self.user is not None and auth_service.scopes_allow(self.user, self.scopes, needed)

    @property
    def is_admin(self) -> bool:
        return self._may(SCOPE_ADMIN)

    @property
    def may_write_recipes(self) -> bool:
        """Whether the forms that add, edit and delete recipes are open to this viewer."""
        return self._may(SCOPE_RECIPES_WRITE)

    def csrf_ok(self, submitted: str | None) -> bool:
        """Whether a form came from one of this signed-in browser's own pages."""
        return self.csrf_token is not None and _matches(self.csrf_token, submitted)

    def keep_cookie(self, response: ResponseT) -> ResponseT:
        """Write the cookie changes this request decided on into its response."""
        if self.sign_out:
            clear_session_cookie(response, secure=self.secure)
        elif self.renewed_token is not None and self.login_session is not None:
            set_session_cookie(
                response,
                self.renewed_token,
                expires_at=self.login_session.expires_at,
                secure=self.secure,
            )
        return response


def start_cookie_session(response: Response, access_token: str, *, secure: bool) -> None:
    """Keep a new login session's access token in the cookie; the sign-in nonce is spent."""
    lifetime = timedelta(days=get_auth_settings().refresh_token_expire_days)
    set_session_cookie(response, access_token, expires_at=utcnow() + lifetime, secure=secure)
    response.delete_cookie(
        LOGIN_NONCE_COOKIE, path=LOGIN_NONCE_PATH, secure=secure, httponly=True, samesite="strict"
    )


def set_session_cookie(
    response: Response, access_token: str, *, expires_at: datetime, secure: bool
) -> None:
    # The cookie lives as long as the login session; the session row decides, not the cookie.
    response.set_cookie(
        SESSION_COOKIE,
        access_token,
        max_age=max(0, int((expires_at - utcnow()).total_seconds())),
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")


def viewer_for(request: Request, session: Session) -> Viewer:
    """The viewer a request's session cookie speaks for (nobody without a live session)."""
    secure = is_https(request)
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return Viewer(secure=secure)
    renew = False
    try:
        claims = read_access_token(token)
    except InvalidToken:
        session_lifetime = get_auth_settings().refresh_token_expire_days * 24 * 60 * 60
        try:
            claims = read_access_token(token, expired_for_at_most=session_lifetime)
        except InvalidToken:
            return Viewer(secure=secure, sign_out=True)
        renew = True
    try:
        user, login = auth_service.load_session_user(session, claims)
    except auth_service.CredentialsRejected:
        return Viewer(secure=secure, sign_out=True)
    renewed = None
    if renew:
        assert user.id is not None  # noqa: S101 - a stored user
        renewed = create_access_token(user_id=user.id, session_id=login.id, scopes=claims.scopes)
    return Viewer(
        user=user,
        login_session=login,
        scopes=frozenset(login.scope.split()),
        secure=secure,
        renewed_token=renewed,
        csrf_token=session_csrf_token(login.id),
    )


@dataclass(frozen=True)
class LoginNonce:
    """The pre-session nonce the sign-in form's CSRF token is bound to."""

    value: str
    is_new: bool

    @property
    def csrf_token(self) -> str:
        return login_csrf_token(self.value)

    def csrf_ok(self, submitted: str | None) -> bool:
        return not self.is_new and _matches(self.csrf_token, submitted)

    def keep_cookie(self, response: ResponseT, *, secure: bool) -> ResponseT:
        if self.is_new:
            response.set_cookie(
                LOGIN_NONCE_COOKIE,
                self.value,
                max_age=LOGIN_NONCE_MAX_AGE_SECONDS,
                path=LOGIN_NONCE_PATH,
                secure=secure,
                httponly=True,
                samesite="strict",
            )
        return response


def login_nonce_for(request: Request) -> LoginNonce:
    """The browser's nonce, or a new one (which no form can have been signed with yet)."""
    value = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    if _SANE_NONCE.fullmatch(value):
        return LoginNonce(value=value, is_new=False)
    return LoginNonce(value=secrets.token_urlsafe(_NONCE_BYTES), is_new=True)
