"""Direct routes: the busiest public reads, answered without FastAPI's per-request machinery.

Profiles of a get by id showed most of the time spent around the route, not in it: FastAPI's
routing through every included router, its exception and exit-stack layers, building the
request, solving and validating parameters. A `DirectRoute` is a path pattern and a handler that
`DirectRoutesMiddleware` calls before any of that, for requests it can answer whole.

The FastAPI route for the same path stays, and stays the authority: it is in the OpenAPI
document, and it answers every request its direct route declines. A handler declines by
returning None for anything it does not fully understand (a parameter that is missing, repeated
with a different meaning, or not plainly valid), so FastAPI's validation produces its 422 exactly
as before. Handlers and routes share the code that reads and encodes, and the tests hold their
answers to be identical.

The middleware sits innermost, inside the request-context, CORS and body-limit middleware, so a
direct answer gets the same headers, metrics and access log line as any other.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

# Answers the request, or returns None to leave it to the FastAPI route.
DirectHandler = Callable[[Request, "re.Match[str]"], Awaitable[Response | None]]


@dataclass(frozen=True)
class DirectRoute:
    method: str
    # Matched against the whole path, named groups for the path parameters.
    pattern: re.Pattern[str]
    # The FastAPI route's full template, e.g. "/api/v1/recipes/{recipe_id}": metrics and the
    # access log label a direct answer exactly as they would the route's.
    path_format: str
    handler: DirectHandler


def query_params(scope: Scope) -> dict[str, str]:
    """The query string as Starlette reads it for FastAPI: decoded the same way, blank values
    kept, the last of a repeated name winning."""
    query_string: bytes = scope["query_string"]
    if not query_string:
        return {}
    return dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


_PLAIN_INT = re.compile(r"[0-9]{1,10}")


def plain_int(value: str | None, *, low: int, high: int) -> int | None:
    """`value` as an int when it is plain digits within [low, high], else None.

    Anything else (a sign, spaces, underscores, a value out of range) is for the FastAPI
    route's validation to judge and explain.
    """
    if value is None or not _PLAIN_INT.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def _exception_handler(request: Request, exc: Exception) -> ExceptionHandler | None:
    """The application's handler for `exc`, found by class as Starlette finds it."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return cast(ExceptionHandler, handlers[cls])
    return None


class DirectRoutesMiddleware:
    def __init__(self, app: ASGIApp, routes: Sequence[DirectRoute]) -> None:
        self.app = app
        self.routes_by_method: dict[str, list[DirectRoute]] = {}
        for route in routes:
            self.routes_by_method.setdefault(route.method, []).append(route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Behind a root path the app's own routing decides what the path means.
        if scope["type"] == "http" and not scope.get("root_path"):
            path: str = scope["path"]
            for route in self.routes_by_method.get(scope["method"], ()):
                match = route.pattern.fullmatch(path)
                if match is None:
                    continue
                request = Request(scope, receive)
                try:
                    response = await route.handler(request, match)
                except Exception as exc:
                    # The handler the application registered for this error, so the answer is
                    # the one the FastAPI route would give; an error with none propagates.
                    handler = _exception_handler(request, exc)
                    if handler is None:
                        raise
                    response = await handler(request, exc)
                if response is None:
                    break
                scope["route"] = route
                scope["path_params"] = match.groupdict()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
