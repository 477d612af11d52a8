"""Domain errors and the one place they become HTTP responses.

Services raise subclasses of `LarderError` (for example `RecipeNotFound`) and never
`HTTPException`; the handlers below turn them into `{"detail": ...}` responses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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
    status_code = 422


class TooManyRequests(LarderError):
    status_code = 429


class ServiceUnavailable(LarderError):
    status_code = 503


def _redact(error: dict[str, Any]) -> dict[str, Any]:
    """Drop the submitted value from a validation error: it may be a password or a token (a
    whole-body error would echo every field). Errors on secret fields lose their context too."""
    location = " ".join(str(part).lower() for part in error.get("loc", ()))
    dropped = {"input", "ctx"} if any(m in location for m in SECRET_FIELD_MARKERS) else {"input"}
    return {key: value for key, value in error.items() if key not in dropped}


async def larder_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LarderError)  # noqa: S101 - registered for LarderError only
    return JSONResponse(
        {"detail": exc.detail}, status_code=exc.status_code, headers=dict(exc.headers or {})
    )


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    errors = [_redact(dict(error)) for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LarderError, larder_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
