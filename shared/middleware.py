"""Pure ASGI middleware: request ids, timing, security headers, metrics and access log, body
limits, last-resort 500.

Written against the raw ASGI interface rather than `BaseHTTPMiddleware`, which costs a task and
a stream per request on the hot path.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time

from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import AccessEntry, access_log, request_id_var
from shared.metrics import observe, route_template

logger = logging.getLogger("larder.requests")

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._~:@+=-]{1,64}$")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
# Browsers that have seen Larder over https go straight to https for a year, so a network
# attacker cannot serve them a plain-http page. Subdomains are left to their own answers.
STRICT_TRANSPORT_SECURITY = (b"strict-transport-security", b"max-age=31536000")


def pick_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's id when it is a sane token of at most 64 characters, else a new one."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    # 128 random bits as 32 hex characters, like uuid4().hex without building a UUID object.
    return os.urandom(16).hex()


def _json_response_start(status: int, extra: list[tuple[bytes, bytes]]) -> Message:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), *extra],
    }


class RequestContextMiddleware:
    """Adds X-Request-ID, X-Process-Time and the security headers to every response (with
    `hsts`, Strict-Transport-Security too on those served over https), and observes every
    request once: the Prometheus figures (shared/metrics.py) and one access log line (method,
    route template, status, duration, request id, client).

    It is also the last resort for unexpected exceptions: they become a generic 500 that names
    the request id and says nothing about the internals. It sits inside the CORS middleware, so
    those 500s still carry CORS headers.
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = True, hsts: bool = False) -> None:
        self.app = app
        self.access_log = access_log
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = pick_request_id(scope["headers"])
        token = request_id_var.set(request_id)
        is_api = scope["path"].startswith("/api/")
        # Browsers ignore the header over plain http, so it goes only on https answers.
        hsts = self.hsts and scope.get("scheme") == "https"
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                # API answers carry user data or tokens; nothing in between may keep them.
                no_store = is_api and not any(
                    name.lower() == b"cache-control" for name, _ in headers
                )
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                headers.append((b"x-process-time", f"{time.perf_counter() - started:.6f}".encode()))
                headers.extend(SECURITY_HEADERS)
                if hsts:
                    headers.append(STRICT_TRANSPORT_SECURITY)
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if response_started:
                raise
            body = json.dumps(
                {"detail": f"Internal server error (request id {request_id})"}
            ).encode()
            await send_with_headers(_json_response_start(500, []))
            await send({"type": "http.response.body", "body": body})
        finally:
            self._observe(scope, request_id, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _observe(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        method: str = scope["method"]
        route = route_template(scope)
        observe(method, route, status, seconds)
        if self.access_log:
            client = scope.get("client")
            access_log().write(
                AccessEntry(
                    created=time.time(),
                    request_id=request_id,
                    method=method,
                    route=route,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                    client=client[0] if client else None,
                )
            )


class CORSMiddleware(StarletteCORSMiddleware):
    """Starlette's CORS middleware, without its cost on requests that carry no Origin header.

    Most requests (servers, scripts, the pages of Larder's own origin) send no Origin. For
    them Starlette's only change to the response is `Vary: Origin`, yet it parses all request
    headers and rewrites the response's through `MutableHeaders`: a fifth of the CPU of a get by
    id. Here such a request gets the same `Vary` from a plain wrapper, and a request with an
    Origin (a preflight or a cross-origin call) goes through Starlette's code unchanged.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await super().__call__(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                vary = [value for name, value in headers if name.lower() == b"vary"]
                if vary:
                    headers = [(name, value) for name, value in headers if name.lower() != b"vary"]
                headers.append((b"vary", b", ".join([*vary, b"Origin"])))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_vary)


class _BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so that body parsing passes it on as a 413."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


_BODILESS_METHODS = frozenset({"GET", "HEAD"})


class BodySizeLimitMiddleware:
    """Refuses request bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._detail = f"Request body is larger than {max_body_bytes // 1024} KiB"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        may_have_body = scope["method"] not in _BODILESS_METHODS
        for name, value in scope["headers"]:
            if name == b"transfer-encoding":
                may_have_body = True
            elif name == b"content-length":
                may_have_body = True
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_body_bytes:
                    await self._refuse(send)
                    return
        if not may_have_body:
            # A GET or HEAD that declares no body has none to count: skip both wrappers.
            await self.app(scope, receive, send)
            return

        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self._detail)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": self._detail}).encode()
        headers: list[tuple[bytes, bytes]] = [(b"connection", b"close")]
        await send(_json_response_start(413, headers))
        await send({"type": "http.response.body", "body": body})
