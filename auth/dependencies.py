"""Who is calling, and what they may do: typed dependencies for routes.

`CurrentUser` needs any valid access token; `RecipesWrite` and `Admin` need a token with the
`recipes:write` or `admin` scope (the scopes show in the OpenAPI security scheme). `SignedIn`
makes the same check as `CurrentUser` more cheaply, for read routes that need no `User` object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2PasswordBearer, SecurityScopes
from fastapi.security.base import SecurityBase

from auth import service as auth_service
from auth.browser import Viewer as Viewer
from auth.browser import viewer_for
from auth.models import LoginSession
from auth.reads import check_login_session
from auth.settings import get_auth_settings, get_sso_settings
from auth.throttle import AccountThrottles
from auth.tokens import (
    SCOPE_ADMIN,
    SCOPE_RECIPES_WRITE,
    SCOPES,
    AccessClaims,
    InvalidToken,
    read_access_token,
)
from shared.database import SessionDep
from shared.errors import NotAuthenticated, PermissionDenied
from shared.network import client_address
from shared.reads import reader_for
from shared.stores import StoreDep
from users.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", scopes=SCOPES, auto_error=False)


@dataclass(frozen=True)
class Authenticated:
    user: User
    login_session: LoginSession
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return auth_service.scopes_allow(self.user, self.scopes, (SCOPE_ADMIN,))


class InsufficientScope(PermissionDenied):
    def __init__(self, needed: list[str]) -> None:
        super().__init__(
            "Not enough permissions",
            headers={
                "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(needed)}"'
            },
        )


def verified_claims(token: str | None) -> AccessClaims:
    """The claims of a valid access token from the Authorization header, or the 401 to answer."""
    if not token:
        raise NotAuthenticated("Not authenticated")
    try:
        return read_access_token(token)
    except InvalidToken as exc:
        raise auth_service.CredentialsRejected from exc


def authenticate(
    security_scopes: SecurityScopes,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Authenticated:
    claims = verified_claims(token)
    user, login_session = auth_service.load_session_user(session, claims)
    if not auth_service.scopes_allow(user, claims.scopes, security_scopes.scopes):
        raise InsufficientScope(security_scopes.scopes)
    return Authenticated(user=user, login_session=login_session, scopes=claims.scopes)


CurrentAuth = Annotated[Authenticated, Security(authenticate)]
RecipesWrite = Annotated[Authenticated, Security(authenticate, scopes=[SCOPE_RECIPES_WRITE])]
AdminAuth = Annotated[Authenticated, Security(authenticate, scopes=[SCOPE_ADMIN])]


def get_current_user(auth: CurrentAuth) -> User:
    return auth.user


def get_admin_user(auth: AdminAuth) -> User:
    return auth.user


CurrentUser = Annotated[User, Depends(get_current_user)]
Admin = Annotated[User, Depends(get_admin_user)]


class SignedInCheck(SecurityBase):
    """The caller's access-token claims, after the same checks as `authenticate` (signature,
    claims, expiry, a live login session, an active user) with the same answers.

    For read routes that only need a signed-in caller: `async def` with one driver-level
    SELECT (auth/reads.py), so no threadpool hop, pooled Session or ORM objects per request.
    Routes that need the `User` or the login session, or a scope, use `CurrentUser` and the
    others.

    A security scheme itself rather than a function depending on `oauth2_scheme`: FastAPI
    solves one dependency instead of two on every request, and OpenAPI shows the same scheme
    (its model and name are the bearer's).
    """

    def __init__(self, bearer: OAuth2PasswordBearer) -> None:
        self.bearer = bearer
        self.model = bearer.model
        self.scheme_name = bearer.scheme_name

    async def __call__(self, request: Request) -> AccessClaims:
        claims = verified_claims(await self.bearer(request))
        await check_login_session(reader_for(request), claims)
        return claims


signed_in = SignedInCheck(oauth2_scheme)


SignedIn = Annotated[AccessClaims, Security(signed_in)]


def get_client_address(request: Request) -> str:
    return client_address(request)


ClientAddress = Annotated[str, Depends(get_client_address)]


def get_throttles(store: StoreDep) -> AccountThrottles:
    return AccountThrottles(store, get_auth_settings(), get_sso_settings())


Throttles = Annotated[AccountThrottles, Depends(get_throttles)]


def get_session_revoker(session: SessionDep) -> Callable[[int], None]:
    """Revokes every login session of a user, inside the caller's transaction.

    Handed to the user administration, which must end sessions when it deactivates someone
    but does not own sessions.
    """

    def revoke(user_id: int) -> None:
        auth_service.revoke_user_sessions(session, user_id=user_id, reason="deactivated")

    return revoke


SessionRevoker = Annotated[Callable[[int], None], Depends(get_session_revoker)]


def get_viewer(request: Request, session: SessionDep) -> Viewer:
    """Who is looking at a page, from the browser's session cookie (pages only, never the API)."""
    return viewer_for(request, session)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
