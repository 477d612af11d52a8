"""What every server-rendered page shares: templates, security headers, flash messages.

Pages are HTML for people; the API stays JSON for programs. Every page goes through
`PageRenderer.render`, which sets a strict Content-Security-Policy (only Larder's own
stylesheet, no scripts at all) and keeps pages out of shared caches.

Flash messages survive one Post/Redirect/Get: the redirect sets a short-lived cookie holding a
message *code*, and the next page shows the fixed text for that code and drops the cookie. No
text a client sent is ever shown back this way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from shared.templating import SHARED_STATIC, SHARED_TEMPLATES

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

FLASH_COOKIE = "larder_flash"
FLASH_MAX_AGE_SECONDS = 60
FLASH_MESSAGES: Mapping[str, str] = {
    "signed-in": "Welcome back: you are signed in.",
    "signed-out": "You are signed out.",
    "sign-in-needed": "Please sign in first.",
    "recipe-added": "Recipe added.",
    "recipe-saved": "Recipe saved.",
    "recipe-deleted": "Recipe deleted.",
}


def is_https(request: Request) -> bool:
    """Cookies are marked Secure when the page was served over https."""
    return request.url.scheme == "https"


def cookie_name(name: str, *, secure: bool) -> str:
    """What a cookie that holds a credential is called: over https, `__Host-<name>`.

    Browsers keep a `__Host-` cookie only when it comes from this very host over https with
    Path=/ and no Domain, so neither a neighbouring subdomain nor a plain-http answer can plant
    or overwrite it. They refuse the prefix without Secure, so plain http (local development)
    uses the bare name; each scheme reads only its own name, never the other.
    """
    return f"__Host-{name}" if secure else name


@lru_cache
def asset_url(name: str) -> str:
    """The URL of a static file, with a content hash so browsers may cache it for long."""
    path = (SHARED_STATIC / name).resolve()
    if not path.is_relative_to(SHARED_STATIC.resolve()) or not path.is_file():
        raise ValueError(f"no static asset named {name!r}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def is_http_url(value: str) -> bool:
    """Links out are only ever http(s): never javascript: or data:, whatever got stored."""
    return value.lower().startswith(("http://", "https://"))


def page_templates(feature_templates: Path) -> Jinja2Templates:
    """A feature's templates, falling back to the shared layout (base.html, error.html)."""
    templates = Jinja2Templates(directory=[feature_templates, SHARED_TEMPLATES])
    templates.env.globals["asset_url"] = asset_url
    templates.env.globals["is_http_url"] = is_http_url
    return templates


def secure_page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # Pages carry form tokens and who is signed in: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def render(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page with its pending flash message (then forgotten) and the page headers."""
    code = request.cookies.get(FLASH_COOKIE)
    flash = FLASH_MESSAGES.get(code) if code else None
    response = templates.TemplateResponse(
        request,
        name,
        {"flash": flash, **context},
        status_code=status_code,
        headers=dict(headers or {}),
    )
    if code is not None:
        response.delete_cookie(FLASH_COOKIE, path="/", secure=is_https(request), httponly=True)
    return secure_page(response)


def redirect(request: Request, url: str, *, flash: str | None = None) -> RedirectResponse:
    """303 See Other (the Post/Redirect/Get answer), optionally with a flash message code."""
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        if flash not in FLASH_MESSAGES:
            raise ValueError(f"unknown flash message code {flash!r}")
        response.set_cookie(
            FLASH_COOKIE,
            flash,
            max_age=FLASH_MAX_AGE_SECONDS,
            path="/",
            secure=is_https(request),
            httponly=True,
            samesite="lax",
        )
    return response
