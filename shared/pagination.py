"""Keyset (cursor) pagination.

A cursor is the opaque, URL-safe encoding of the sort key of the last row a page returned. The
next page starts strictly after that key, so rows added meanwhile never shift or repeat a page,
and page 10,000 costs what page 1 costs. A cursor does not remember the page size: it works with
any `limit`.
"""

from __future__ import annotations

import base64
import binascii
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
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc
    if version != _CURSOR_VERSION or type(last_id) is not int or last_id < 1:
        raise InvalidCursor
    return last_id


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
