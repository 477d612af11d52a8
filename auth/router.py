"""Auth routes under /api/v1/auth (single sign-on under /api/v1/auth/sso), and the password
change under /api/v1/users/me."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Form, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from auth import emails, sso, sso_accounts
from auth import service as auth_service
from auth.dependencies import ClientAddress, CurrentAuth, CurrentUser, Throttles
from auth.passwords import hash_password_async
from auth.schemas import (
    AcceptedResponse,
    LoginForm,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    SignupRequest,
    TokenResponse,
)
from auth.settings import get_sso_settings
from auth.tokens import create_password_reset_token
from shared.database import SessionDep
from shared.openapi import error_responses
from shared.stores import StoreDep
from users.schemas import UserCreate, UserPublic
from users.service import user_service

router = APIRouter(prefix="/auth", tags=["auth"])
account_router = APIRouter(prefix="/users", tags=["users"])
sso_router = APIRouter(prefix="/auth/sso", tags=["auth"])

NO_CONTENT = status.HTTP_204_NO_CONTENT


def _token_response(tokens: auth_service.IssuedTokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
        scope=tokens.scope,
    )


@router.post(
    "/signup",
    response_model=UserPublic,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 409, 422, 429, 503),
    summary="Create an account",
)
async def signup(
    body: SignupRequest, session: SessionDep, throttles: Throttles, address: ClientAddress
) -> UserPublic:
    await throttles.count_signup(address)  # before the password is hashed
    hashed = await hash_password_async(body.password)
    user_in = UserCreate(email=body.email, first_name=body.first_name, surname=body.surname)
    user = await run_in_threadpool(
        lambda: user_service.create_user(session, user_in=user_in, hashed_password=hashed)
    )
    return UserPublic.model_validate(user)


@router.post(
    "/login",
    response_model=TokenResponse,
    responses=error_responses(400, 422, 429, 503),
    summary="Sign in with email and password (OAuth2 password form)",
)
async def login(
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    throttles: Throttles,
    address: ClientAddress,
) -> TokenResponse:
    tokens = await throttles.check_password(
        kind="login",
        account=form.username,
        address=address,
        check=lambda: auth_service.login(
            session, email=form.username, password=form.password, requested_scope=form.scope
        ),
    )
    return _token_response(tokens)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=error_responses(400, 422),
    summary="Trade a refresh token for a new pair (the old one is spent)",
)
def refresh(body: RefreshRequest, session: SessionDep) -> TokenResponse:
    return _token_response(auth_service.refresh(session, refresh_token=body.refresh_token))


@router.post(
    "/logout",
    status_code=NO_CONTENT,
    responses=error_responses(401),
    summary="End this login session",
)
def logout(auth: CurrentAuth, session: SessionDep) -> Response:
    auth_service.logout(session, session_id=auth.login_session.id)
    return Response(status_code=NO_CONTENT)


@router.get("/me", response_model=UserPublic, responses=error_responses(401), summary="Who am I")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.post(
    "/password-reset/request",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AcceptedResponse,
    responses=error_responses(400, 422, 429, 503),
    summary="Email a password reset link (always 202)",
)
async def request_password_reset(
    body: PasswordResetRequest,
    session: SessionDep,
    throttles: Throttles,
    address: ClientAddress,
    background: BackgroundTasks,
) -> AcceptedResponse:
    await throttles.count_reset_request(email=body.email, address=address)
    user = await run_in_threadpool(auth_service.user_for_password_reset, session, email=body.email)
    if user is not None and user.id is not None:
        token = create_password_reset_token(user)
        # Sent after the response, so known and unknown emails answer alike and as fast.
        background.add_task(emails.send_password_reset, to=user.email, token=token)
    return AcceptedResponse(detail="If that account exists, a reset link is on its way")


@router.post(
    "/password-reset/confirm",
    status_code=NO_CONTENT,
    responses=error_responses(400, 422, 503),
    summary="Choose a new password with a reset token",
)
async def confirm_password_reset(body: PasswordResetConfirm, session: SessionDep) -> Response:
    await auth_service.confirm_password_reset(
        session, token=body.token, new_password=body.new_password
    )
    return Response(status_code=NO_CONTENT)


@account_router.post(
    "/me/password",
    status_code=NO_CONTENT,
    responses=error_responses(400, 401, 422, 429, 503),
    summary="Change your password (your other sessions end)",
)
async def change_password(
    body: PasswordChange,
    auth: CurrentAuth,
    session: SessionDep,
    throttles: Throttles,
    address: ClientAddress,
) -> Response:
    # The current password is checked like a login's, per account and client address.
    await throttles.check_password(
        kind="password-change",
        account=str(auth.user.id),
        address=address,
        check=lambda: auth_service.change_password(
            session,
            user=auth.user,
            current_password=body.current_password,
            new_password=body.new_password,
            keep_session_id=auth.login_session.id,
        ),
    )
    return Response(status_code=NO_CONTENT)


# Binds a sign-in to the browser that started it (HttpOnly, SameSite=Lax, callback path only).
SSO_BINDING_COOKIE = "larder_sso"
SSO_REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "To the provider's sign-in page (state, nonce, PKCE S256 challenge)."}
}


@sso_router.get(
    "/{provider}/login",
    status_code=status.HTTP_302_FOUND,
    response_class=Response,
    responses={**SSO_REDIRECT, **error_responses(404, 429, 502, 503)},
    summary="Start signing in with an OpenID Connect provider",
)
async def sso_login(
    provider: str, request: Request, store: StoreDep, throttles: Throttles, address: ClientAddress
) -> Response:
    # Each start keeps state in the store: bounded per address before anything is kept.
    await throttles.count_sso_start(address)
    callback = str(request.url_for("sso_callback", provider=provider))
    started = await sso.begin(store, provider_name=provider, redirect_uri=callback)
    response = Response(
        status_code=status.HTTP_302_FOUND, headers={"Location": started.authorization_url}
    )
    response.set_cookie(
        SSO_BINDING_COOKIE,
        started.browser_binding,
        max_age=get_sso_settings().sso_state_ttl_seconds,
        path=urlsplit(callback).path,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


@sso_router.get(
    "/{provider}/callback",
    name="sso_callback",
    response_model=TokenResponse,
    responses=error_responses(400, 404, 409, 502, 503),
    summary="Finish signing in with a provider: answers like /auth/login",
)
async def sso_callback(
    provider: str, request: Request, response: Response, session: SessionDep, store: StoreDep
) -> TokenResponse:
    identity = await sso.finish(
        store,
        provider_name=provider,
        params=dict(request.query_params),
        browser_binding=request.cookies.get(SSO_BINDING_COOKIE),
    )
    tokens = await run_in_threadpool(sso_accounts.sign_in, session, identity=identity)
    response.delete_cookie(SSO_BINDING_COOKIE, path=request.url.path)
    return _token_response(tokens)
