"""Larder's application factory: settings, middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from auth.pages import router as auth_pages
from auth.router import account_router as auth_account_router
from auth.router import router as auth_router
from auth.router import sso_router as auth_sso_router
from auth.settings import get_sso_settings
from recipes.page import router as recipes_page
from recipes.router import direct_routes as recipes_direct_routes
from recipes.router import router as recipes_router
from reddit.dependencies import open_reddit
from reddit.router import direct_routes as ideas_direct_routes
from reddit.router import router as ideas_router
from reddit.settings import get_reddit_settings
from shared.direct import DirectRoutesMiddleware
from shared.docs import router as docs_router
from shared.errors import install_error_handlers
from shared.health import router as health_router
from shared.logging import access_log, configure_logging
from shared.metrics import router as metrics_router
from shared.middleware import BodySizeLimitMiddleware, CORSMiddleware, RequestContextMiddleware
from shared.network import TrustedProxyMiddleware
from shared.settings import get_app_settings, get_redis_settings
from shared.stores import open_store
from shared.templating import SHARED_STATIC
from users.router import router as users_router

API_PREFIX = "/api/v1"


OPENAPI_TAGS = [
    {"name": "recipes", "description": "Recipes: read, list, search; write with `recipes:write`."},
    {"name": "auth", "description": "Sign-up, sign-in, tokens, password reset, single sign-on."},
    {"name": "users", "description": "Your profile and password; administration with `admin`."},
    {"name": "ideas", "description": "Recipe ideas from Reddit, for signed-in users."},
]


def operation_id(route: APIRoute) -> str:
    """`<tag>-<endpoint function>`, e.g. `recipes-get-recipe`, `auth-login`.

    Generated clients name their methods after these, so they are part of the contract:
    renaming an endpoint function is a breaking change (the OpenAPI check says so).
    """
    tag = str(route.tags[0]) if route.tags else "larder"
    return f"{tag}-{route.name.replace('_', '-')}"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """What lives as long as the application: the shared store and the Reddit client."""
    settings = get_app_settings()
    configure_logging(settings.log_level, json_logs=settings.json_logs)
    async with (
        open_store(get_redis_settings()) as store,
        open_reddit(app, get_reddit_settings()),
    ):
        app.state.store = store
        yield
    access_log().flush()


def create_app(*, direct_routes: bool = True) -> FastAPI:
    """The application. `direct_routes=False` leaves every request to the FastAPI routes, for
    tests that hold the direct answers (shared/direct.py) to be the same as theirs."""
    settings = get_app_settings()
    # A malformed SSO_PROVIDERS stops start-up with its message, rather than failing sign-ins.
    get_sso_settings()
    app = FastAPI(
        title="Larder",
        summary="A recipe API: recipes, accounts and ideas.",
        version="1.0.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        # Served by shared/docs.py, from Larder's own files rather than a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Larder's figures are Prometheus metrics and its own request log, and it ships no
        # OpenTelemetry SDK, so FastAPI's native telemetry could never record anything; left
        # on, it still looks up the global OpenTelemetry providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        generate_unique_id_function=operation_id,
        openapi_tags=OPENAPI_TAGS,
    )
    install_error_handlers(app)

    # Added innermost first: CORS wraps everything, so even error responses carry its headers.
    if direct_routes:
        routes = [*recipes_direct_routes(API_PREFIX), *ideas_direct_routes(API_PREFIX)]
        app.add_middleware(DirectRoutesMiddleware, routes=routes)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(
        RequestContextMiddleware,
        access_log=settings.access_log,
        hsts=settings.environment == "production",
    )
    if settings.trusted_proxies:
        # Outside the access log, so the line names the client this middleware decides on.
        app.add_middleware(TrustedProxyMiddleware, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.backend_cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "X-Request-ID",
        ],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "X-Process-Time"],
        max_age=600,
    )

    app.include_router(recipes_router, prefix=API_PREFIX)
    app.include_router(auth_router, prefix=API_PREFIX)
    app.include_router(auth_sso_router, prefix=API_PREFIX)
    app.include_router(auth_account_router, prefix=API_PREFIX)
    app.include_router(users_router, prefix=API_PREFIX)
    app.include_router(ideas_router, prefix=API_PREFIX)
    app.include_router(recipes_page)
    app.include_router(auth_pages)
    app.include_router(docs_router)
    app.include_router(health_router)
    app.include_router(metrics_router)
    app.mount("/static", StaticFiles(directory=SHARED_STATIC), name="static")
    return app


app = create_app()
