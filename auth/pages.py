"""Sign-in and sign-out pages for browsers: a form posting to Larder, kept in a cookie session.

The form login is the API login (same password check, same throttling per email and client
address, same login sessions, marked as begun on the pages); only the transport differs. See
`auth.browser`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from auth import browser
from auth import service as auth_service
from auth.dependencies import ClientAddress, Throttles, ViewerDep
from auth.models import PAGE_SIGN_IN
from auth.throttle import Throttled
from shared.database import SessionDep
from shared.errors import ServiceUnavailable
from shared.pages import is_https, page_templates, redirect, render

templates = page_templates(Path(__file__).parent / "templates")

router = APIRouter(include_in_schema=False)

MAX_EMAIL_LENGTH = 320
MAX_PASSWORD_LENGTH = 128
FORM_EXPIRED = "This form has expired or did not come from Larder. Please try again."


def _login_page(
    request: Request,
    viewer: browser.Viewer,
    *,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    nonce = browser.login_nonce_for(request)
    response = render(
        templates,
        request,
        "login.html",
        {"viewer": viewer, "email": email, "error": error, "csrf_token": nonce.csrf_token},
        status_code=status_code,
        headers=headers,
    )
    viewer.keep_cookie(response)
    nonce.keep_cookie(response, secure=is_https(request))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, viewer: ViewerDep) -> Response:
    if viewer.user is not None:
        return redirect(request, "/")
    return _login_page(request, viewer)


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    throttles: Throttles,
    address: ClientAddress,
    email: Annotated[str, Form(max_length=MAX_EMAIL_LENGTH)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    email = email.strip()
    if not browser.login_nonce_for(request).csrf_ok(csrf_token):
        return _login_page(request, viewer, email=email, error=FORM_EXPIRED, status_code=403)
    if not email or not password:
        return _login_page(
            request, viewer, email=email, error="Enter your email and password.", status_code=400
        )
    try:
        tokens = await throttles.check_password(
            kind="login",
            account=email,
            address=address,
            check=lambda: auth_service.login(
                session, email=email, password=password, requested_scope=None, method=PAGE_SIGN_IN
            ),
        )
    except Throttled as exc:
        minutes = max(1, -(-int(exc.headers["Retry-After"] if exc.headers else 60) // 60))
        return _login_page(
            request,
            viewer,
            email=email,
            error=f"Too many attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            status_code=429,
            headers=dict(exc.headers or {}),
        )
    except auth_service.LoginFailed:
        return _login_page(
            request, viewer, email=email, error="Incorrect email or password.", status_code=400
        )
    except ServiceUnavailable as exc:  # the counts or the password hashing, for a moment
        return _login_page(
            request,
            viewer,
            email=email,
            error="Signing in is busy right now. Please try again in a moment.",
            status_code=503,
            headers=dict(exc.headers or {}),
        )
    response = redirect(request, "/", flash="signed-in")
    browser.start_cookie_session(response, tokens.access_token, secure=is_https(request))
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if viewer.login_session is None:
        # Nobody to sign out (the session may have ended already): just make sure of it.
        response = redirect(request, "/", flash="signed-out")
        return viewer.keep_cookie(response)
    if not viewer.csrf_ok(csrf_token):
        return forbidden_form(request, viewer)
    auth_service.logout(session, session_id=viewer.login_session.id)
    response = redirect(request, "/", flash="signed-out")
    browser.clear_session_cookie(response, secure=viewer.secure)
    return response


def forbidden_form(request: Request, viewer: browser.Viewer) -> HTMLResponse:
    response = render(
        templates,
        request,
        "error.html",
        {"viewer": viewer, "heading": "Form expired", "message": FORM_EXPIRED},
        status_code=403,
    )
    return viewer.keep_cookie(response)
