"""Keyset (cursor) pagination.

A cursor is the opaque, URL-safe encoding of the sort key of the last row a page returned. The
next page starts strictly after that key, so rows added meanwhile never shift or repeat a page,
and page 10,000 costs what page 1 costs. A cursor does not remember the page size: it works with
any `limit`.

Clients may send anything as a cursor, so `decode_cursor` is the one place that reads one, and
it accepts only what `encode_cursor` makes: strict base64 of the JSON list `[version, id]`, both
plain integers, the id positive and within a signed 64-bit integer (what SQLite and PostgreSQL
can bind). Anything else is `InvalidCursor`, a 422 on the `cursor` parameter.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from shared.errors import InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 200
MAX_CURSOR_ID = 2**63 - 1

Limit = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="How many items to return (1-100).")
]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="Opaque `next_cursor` from the previous page."),
]


class Page(BaseModel, Generic[T]):
    results: list[T]
    next_cursor: str | None = None


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Invalid cursor", loc=("query", "cursor"))


def encode_cursor(last_id: int) -> str:
    raw = json.dumps([_CURSOR_VERSION, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> int | None:
    """The id the next page starts below, or None for the first page."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        # validate=True: characters outside the alphabet are an error, not silently dropped.
        decoded = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True))
    except (ValueError, RecursionError) as exc:  # binascii, JSON and UTF-8 errors alike
        raise InvalidCursor from exc
    # `type(...) is int`: JSON's true, false and 5.0 are not ids or versions.
    if not (
        isinstance(decoded, list)
        and len(decoded) == 2
        and all(type(part) is int for part in decoded)
    ):
        raise InvalidCursor
    version, last_id = decoded
    if version != _CURSOR_VERSION or not 1 <= last_id <= MAX_CURSOR_ID:
        raise InvalidCursor
    return int(last_id)


def next_cursor_for(ids: list[int], limit: int, has_more: bool) -> str | None:
    """The cursor after the last of `ids`, when there is more to read."""
    if not has_more or not ids or len(ids) < limit:
        return None
    return encode_cursor(ids[-1])


SchemaT = TypeVar("SchemaT", bound=BaseModel)


def page_of(
    rows: Sequence[Any], *, schema: type[SchemaT], limit: int, has_more: bool
) -> Page[SchemaT]:
    """A page of `rows` (objects with an `id`, newest first) shown as `schema`."""
    return Page[schema](  # type: ignore[valid-type]
        results=[schema.model_validate(row) for row in rows],
        next_cursor=next_cursor_for([row.id for row in rows if row.id], limit, has_more),
    )
