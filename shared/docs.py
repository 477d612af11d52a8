"""Swagger UI (/docs) and ReDoc (/redoc), with their scripts and styles served by Larder itself.

FastAPI's own pages load both from a CDN: they fail without internet access, and they let a
third party's script run on a page where people paste their tokens. These routes follow
FastAPI's documented recipe for self-hosting the docs assets (`get_swagger_ui_html` and
`get_redoc_html` pointed at local files): the files come from the publishers' npm packages,
under shared/static/vendor/ (refreshed by `make docs-assets`; tools/docs_assets.py lists the
one change made to them, ReDoc's logo, which would load from Redocly's CDN).

Each page gets a Content-Security-Policy that allows Larder's own origin and nothing else. The
inline script that starts Swagger UI and the OAuth2 redirect page's script are allowed by their
SHA-256 hashes, computed from the page itself, never by 'unsafe-inline'; Swagger UI's page
allows no inline style either. ReDoc inserts its styles at run time (styled-components) and
builds its search worker from a blob: URL, so its page allows inline styles and blob: workers;
its scripts, too, come only from Larder.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from shared.pages import asset_url

DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
REDOC_URL = "/redoc"

SWAGGER_JS = "vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui/swagger-ui.css"
REDOC_JS = "vendor/redoc/redoc.standalone.js"
FAVICON = "vendor/swagger-ui/favicon-32x32.png"

router = APIRouter(include_in_schema=False)

_INLINE_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def _hash_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def docs_policy(html: str, *, runtime_styles: bool = False) -> str:
    """A Content-Security-Policy for `html` that allows its own inline blocks (by hash) and
    otherwise only files from Larder. `runtime_styles` also allows the styles and blob: workers
    that a script of the page creates (ReDoc's)."""
    sources: dict[str, list[str]] = {"script": ["'self'"], "style": ["'self'"]}
    for tag, body in _INLINE_BLOCK.findall(html):
        sources[tag].append(_hash_source(body))
    styles = ["'self'", "'unsafe-inline'"] if runtime_styles else sources["style"]
    directives = [
        "default-src 'none'",
        "script-src " + " ".join(sources["script"]),
        "style-src " + " ".join(styles),
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:" if runtime_styles else "",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directive for directive in directives if directive)


def _secured(page: HTMLResponse, *, runtime_styles: bool = False) -> HTMLResponse:
    html = bytes(page.body).decode()
    policy = docs_policy(html, runtime_styles=runtime_styles)
    page.headers["Content-Security-Policy"] = policy
    return page


def _root(request: Request) -> str:
    """The path the application is mounted under, as FastAPI's own docs routes use it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get(DOCS_URL)
async def swagger_ui_html(request: Request) -> HTMLResponse:
    app = request.app
    root = _root(request)
    parameters: dict[str, Any] = {
        **(app.swagger_ui_parameters or {}),
        # Swagger UI would otherwise send the document to validator.swagger.io for a badge.
        "validatorUrl": None,
    }
    page = get_swagger_ui_html(
        openapi_url=root + app.openapi_url,
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=root + OAUTH2_REDIRECT_URL,
        swagger_js_url=root + asset_url(SWAGGER_JS),
        swagger_css_url=root + asset_url(SWAGGER_CSS),
        swagger_favicon_url=root + asset_url(FAVICON),
        init_oauth=app.swagger_ui_init_oauth,
        swagger_ui_parameters=parameters,
    )
    return _secured(page)


@router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_redirect() -> HTMLResponse:
    return _secured(get_swagger_ui_oauth2_redirect_html())


@router.get(REDOC_URL)
async def redoc_html(request: Request) -> HTMLResponse:
    app = request.app
    root = _root(request)
    page = get_redoc_html(
        openapi_url=root + app.openapi_url,
        title=f"{app.title} - ReDoc",
        redoc_js_url=root + asset_url(REDOC_JS),
        redoc_favicon_url=root + asset_url(FAVICON),
        with_google_fonts=False,
    )
    return _secured(page, runtime_styles=True)
