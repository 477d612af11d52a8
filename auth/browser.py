"""The browser's cookie session and its CSRF tokens.

A form sign-in starts a login session (the same `LoginSession` rows as the API, so logging
out, changing the password or deactivating the account ends it too) whose method marks it as
begun on the pages (`PAGE_SIGN_IN`). The cookie holds that session's page token: signed like an
access token but of its own type, so the API refuses it as a bearer token, and the pages refuse
an API client's access token. Each page request checks the token and its session in the
database; a token of any other kind, or a revoked, expired or non-page session, signs the
browser out. The page token lives as long as its session and is never renewed, so nothing a
browser or an API client holds can be stretched past the session's absolute expiry
(`REFRESH_TOKEN_EXPIRE_DAYS`), and API sessions keep to refresh-token rotation.

What a page session may do is what its login session's scopes allow, by the same rule as the
API (`auth.service.scopes_allow`).

Over https the cookies are `__Host-` prefixed and Secure (see `shared.pages.cookie_name`); over
plain http (local development) they go by their bare names.

CSRF: every form carries a token that is an HMAC (keyed by SECRET_KEY) of what the browser is
bound to: its login session id once signed in, or a random pre-session nonce kept in a
SameSite=Strict cookie for the sign-in form. A cross-site page can neither read the token nor
forge it. Anyone can get a nonce and its token from the sign-in form, so the nonce cookie is
`__Host-` prefixed over https too: no neighbouring site can plant a nonce whose token it knows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from fastapi import Request, Response
from sqlmodel import Session

from auth import service as auth_service
from auth.models import LoginSession
from auth.settings import get_auth_settings
from auth.tokens import (
    SCOPE_ADMIN,
    SCOPE_RECIPES_WRITE,
    InvalidToken,
    create_page_token,
    read_access_token,
    read_page_token,
)
from shared.pages import cookie_name, is_https
from shared.settings import get_app_settings
from users.models import User

ResponseT = TypeVar("ResponseT", bound=Response)

SESSION_COOKIE = "larder_session"
LOGIN_NONCE_COOKIE = "larder_login_nonce"
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
    # The cookie is no good: the page's response must sign the browser out.
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
        return response


def start_cookie_session(response: Response, access_token: str, *, secure: bool) -> None:
    """Keep a new page session in the cookie; the sign-in nonce is spent.

    `access_token` is the one the sign-in issued, naming its session; the cookie gets that
    session's page token instead, which is no bearer token.
    """
    claims = read_access_token(access_token)
    lifetime = int(timedelta(days=get_auth_settings().refresh_token_expire_days).total_seconds())
    page_token = create_page_token(
        user_id=claims.user_id,
        session_id=claims.session_id,
        scopes=claims.scopes,
        lifetime_seconds=lifetime,
    )
    # The cookie lives as long as the login session; the session row decides, not the cookie.
    response.set_cookie(
        cookie_name(SESSION_COOKIE, secure=secure),
        page_token,
        max_age=lifetime,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    _delete_cookie(response, LOGIN_NONCE_COOKIE, secure=secure, samesite="strict")


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    _delete_cookie(response, SESSION_COOKIE, secure=secure, samesite="lax")


def _delete_cookie(
    response: Response, name: str, *, secure: bool, samesite: Literal["lax", "strict"]
) -> None:
    # The name, path and Secure it was set with: else browsers keep it (or refuse a __Host- one).
    response.delete_cookie(
        cookie_name(name, secure=secure), path="/", secure=secure, httponly=True, samesite=samesite
    )


def viewer_for(request: Request, session: Session) -> Viewer:
    """The viewer a request's session cookie speaks for (nobody without a live page session)."""
    secure = is_https(request)
    token = request.cookies.get(cookie_name(SESSION_COOKIE, secure=secure))
    if not token:
        return Viewer(secure=secure)
    try:
        user, login = auth_service.load_session_user(session, read_page_token(token))
    except (InvalidToken, auth_service.CredentialsRejected):
        return Viewer(secure=secure, sign_out=True)
    if not login.started_on_pages:
        # Page tokens are only ever made for page sessions; this holds even if one were not.
        return Viewer(secure=secure, sign_out=True)
    return Viewer(
        user=user,
        login_session=login,
        scopes=frozenset(login.scope.split()),
        secure=secure,
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
                cookie_name(LOGIN_NONCE_COOKIE, secure=secure),
                self.value,
                max_age=LOGIN_NONCE_MAX_AGE_SECONDS,
                path="/",
                secure=secure,
                httponly=True,
                samesite="strict",
            )
        return response


def login_nonce_for(request: Request) -> LoginNonce:
    """The browser's nonce, or a new one (which no form can have been signed with yet)."""
    value = request.cookies.get(cookie_name(LOGIN_NONCE_COOKIE, secure=is_https(request)), "")
    if _SANE_NONCE.fullmatch(value):
        return LoginNonce(value=value, is_new=False)
    return LoginNonce(value=secrets.token_urlsafe(_NONCE_BYTES), is_new=True)
