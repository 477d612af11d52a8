"""Domain errors and the one place they become HTTP responses.

Services raise subclasses of `LarderError` (for example `RecipeNotFound`) and never
`HTTPException`; the handlers below turn them into `{"detail": ...}` responses.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.errors import QueryCanceled
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

logger = logging.getLogger("larder.errors")

# Validation errors on these fields never echo the submitted value back.
SECRET_FIELD_MARKERS = ("password", "token", "secret")


class LarderError(Exception):
    status_code: ClassVar[int] = 400
    headers: Mapping[str, str] | None = None

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if headers is not None:
            self.headers = headers


class BadRequest(LarderError):
    status_code = 400


class NotAuthenticated(LarderError):
    status_code = 401
    headers = MappingProxyType({"WWW-Authenticate": "Bearer"})


class PermissionDenied(LarderError):
    status_code = 403


class NotFound(LarderError):
    status_code = 404


class Conflict(LarderError):
    status_code = 409


class PreconditionFailed(LarderError):
    status_code = 412


class InvalidInput(LarderError):
    """Input that passed FastAPI's validation but not the service's. Answered in FastAPI's own
    422 shape (a list of errors with loc, msg and type), the one the OpenAPI document declares,
    so clients parse every 422 the same way."""

    status_code = 422
    loc: tuple[str, ...] = ("body",)

    def __init__(self, detail: str, *, loc: tuple[str, ...] | None = None) -> None:
        super().__init__(detail)
        if loc is not None:
            self.loc = loc


class TooManyRequests(LarderError):
    status_code = 429


class ServiceUnavailable(LarderError):
    status_code = 503


# What a client is told to wait before retrying when a dependency (the database) is down.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_DETAIL = "Service temporarily unavailable"


def log_database_unavailable(exc: BaseException) -> None:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    # The driver's first line names the failure (refused, timed out); the statement and its
    # parameters stay out of the log as well as out of the response.
    logger.warning("database unavailable: %s: %s", type(cause).__name__, _first_line(cause))


class DatabaseUnavailable(ServiceUnavailable):
    """Raised by code that talks to the database driver directly (the fast read path); the
    SQLAlchemy paths are mapped by `database_unavailable_handler` below."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE_DETAIL, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


TIMED_OUT_DETAIL = "The database took too long to answer"


class DatabaseTimedOut(ServiceUnavailable):
    """A statement ran past DB_STATEMENT_TIMEOUT_SECONDS, or waited as long for its turn. A 503
    rather than a 4xx: the same request may well succeed when the database is less busy."""

    def __init__(self, detail: str = TIMED_OUT_DETAIL) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def is_statement_timeout(exc: BaseException) -> bool:
    """PostgreSQL's statement_timeout, or SQLite's progress handler, stopped a statement."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(cause, QueryCanceled):
        return True
    return isinstance(cause, sqlite3.OperationalError) and str(cause) == "interrupted"


class DatabaseRefusedValue(InvalidInput):
    def __init__(self) -> None:
        super().__init__("A value is out of range or invalid", loc=("request",))


def _redact(error: dict[str, Any]) -> dict[str, Any]:
    """Drop the submitted value from a validation error: it may be a password or a token (a
    whole-body error would echo every field). Errors on secret fields lose their context too."""
    location = " ".join(str(part).lower() for part in error.get("loc", ()))
    dropped = {"input", "ctx"} if any(m in location for m in SECRET_FIELD_MARKERS) else {"input"}
    return {key: value for key, value in error.items() if key not in dropped}


async def larder_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LarderError)  # noqa: S101 - registered for LarderError only
    detail: Any = exc.detail
    if isinstance(exc, InvalidInput):
        detail = [{"loc": list(exc.loc), "msg": exc.detail, "type": "value_error"}]
    return JSONResponse(
        {"detail": detail}, status_code=exc.status_code, headers=dict(exc.headers or {})
    )


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = [_redact(dict(error)) for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


async def database_unavailable_handler(_request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached, dropped the connection, or no pooled connection came
    free in time, or a statement ran past its time: a 503 the client may retry, never the SQL or
    the driver's message."""
    if is_statement_timeout(exc):
        logger.warning("statement timed out")
        detail = TIMED_OUT_DETAIL
    else:
        log_database_unavailable(exc)
        detail = UNAVAILABLE_DETAIL
    return JSONResponse(
        {"detail": detail},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def invalid_data_handler(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot hold (an id beyond its integer range, a NUL byte in text)
    is the client's mistake: 422 in FastAPI's shape, without the driver's message."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    logger.info("database refused a value: %s", type(cause).__name__)
    msg = "A value is out of range or invalid"
    detail = [{"loc": ["request"], "msg": msg, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LarderError, larder_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    for error in (OperationalError, InterfaceError, PoolTimeoutError):
        app.add_exception_handler(error, database_unavailable_handler)
    app.add_exception_handler(DataError, invalid_data_handler)
