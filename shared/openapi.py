"""OpenAPI declarations shared by every router: the error responses a route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong, for people.")


_DESCRIPTIONS = {
    400: "The request was refused, or its body could not be parsed.",
    401: "Missing, malformed, expired or revoked bearer token.",
    403: "Signed in, but not allowed to do this.",
    404: "Nothing has this id.",
    409: "Conflicts with existing data.",
    412: "The If-Match precondition failed: the resource changed.",
    413: "The request body is too large.",
    422: "The request is malformed.",
    429: "Too many attempts; see Retry-After.",
    502: "An upstream service failed.",
    503: "A dependency is unavailable; see Retry-After.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the error codes a route can return."""
    responses: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        if code == 422:
            # FastAPI documents 422 itself, with its validation error schema, on every route
            # that takes input; an entry here would replace that schema. Larder's own 422s
            # (shared.errors.InvalidInput) are answered in that same shape.
            continue
        responses[code] = {"description": _DESCRIPTIONS[code], "model": ErrorResponse}
    return responses
