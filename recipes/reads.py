"""The recipe reads behind the busiest public routes, at driver level.

Each function runs one SELECT through a `shared.reads.Reader` and returns plain rows; `encode_*`
turns rows into the exact JSON that `RecipePublic` would produce. The SQL is written per database
because search is served by a different index on each (see migration 0004, the label search index).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic_core import to_json

from recipes.models import fold_label
from shared.crud import MAX_ID
from shared.errors import DatabaseRefusedValue, DatabaseTimedOut
from shared.pagination import MAX_PAGE_SIZE, next_cursor_for
from shared.reads import Params, Reader, Row
from shared.timed_set import TimedSet

# Every statement selects the RecipePublic fields in order, then the version (for the ETag).
_COLUMNS = "id, label, source, url, submitter_id, created_at, updated_at, version"
_SELECT = f"SELECT {_COLUMNS} FROM recipe"  # noqa: S608 - constants only, as below
# PostgreSQL writes the timestamps as text, in UTC and in the form SQLite stores them
# ("YYYY-MM-DD HH:MM:SS.ffffff"), which `_utc_json` turns into RecipePublic's JSON by rewriting
# the text: a third of the cost of converting datetimes to UTC, 40 times on a page.
_POSTGRES_COLUMNS = (
    "id, label, source, url, submitter_id,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS created_at,"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS updated_at, version"
)
_GET = _SELECT + " WHERE id = ?"
# Keyset pages, one statement per filter combination so each is prepared once.
_LIST = {
    (False, False): _SELECT + " ORDER BY id DESC LIMIT ?",
    (False, True): _SELECT + " WHERE id < ? ORDER BY id DESC LIMIT ?",
    (True, False): _SELECT + " WHERE submitter_id = ? ORDER BY id DESC LIMIT ?",
    (True, True): _SELECT + " WHERE submitter_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
}
# Search runs in two steps (see search_plan). First the newest rows, by primary key: a keyword
# that is common (in a few percent of labels or more) finds its matches there and stops early.
_SQLITE_SEARCH_NEWEST = (
    "SELECT id, label, source, url, submitter_id, created_at, updated_at, version FROM recipe"
    " WHERE id > (SELECT max(id) FROM recipe) - ? AND label_folded GLOB ?"
    " ORDER BY id DESC LIMIT ?"
)
_POSTGRES_SEARCH_NEWEST = (
    f"SELECT {_POSTGRES_COLUMNS} FROM ("  # noqa: S608 - constants only
    "SELECT id, label, source, url, submitter_id, created_at, updated_at, version, label_folded"
    " FROM recipe ORDER BY id DESC LIMIT %s) AS newest"
    " WHERE label_folded LIKE %s ESCAPE '\\' ORDER BY id DESC LIMIT %s"
)
# Then the index, for rarer keywords. The FTS table yields rowids newest first and stops at the
# limit. The keyword is one quoted phrase: with the case-sensitive trigram tokenizer a phrase
# matches exactly the labels that hold it as a substring, the meaning of the GLOB above, and
# MATCH reads it from the index without GLOB's recheck of each candidate (half the time).
_SQLITE_SEARCH_INDEX = (
    "SELECT id, label, source, url, submitter_id, created_at, updated_at, version FROM recipe"
    " WHERE id IN (SELECT rowid FROM recipe_search"
    " WHERE recipe_search MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY id DESC"
)
# MATERIALIZED keeps PostgreSQL from answering with a backward primary-key scan that filters
# every row (it cannot tell a rare keyword from a common one); with the column's statistics
# target raised by the migration it reads the matches from the trigram index instead.
_POSTGRES_SEARCH_INDEX = (
    "WITH matches AS MATERIALIZED ("  # noqa: S608 - constants only
    f"SELECT {_COLUMNS} FROM recipe"
    " WHERE label_folded LIKE %s ESCAPE '\\')"
    f" SELECT {_POSTGRES_COLUMNS} FROM matches ORDER BY id DESC LIMIT %s"
)


@cache
def _statement(dialect: str, template: str) -> str:
    """`template` uses `?` placeholders and `_COLUMNS`; PostgreSQL's reader wants `%s` and its
    timestamps as text."""
    if dialect == "sqlite":
        return template
    return template.replace(_COLUMNS, _POSTGRES_COLUMNS).replace("?", "%s")


def search_window(max_results: int) -> int:
    """How many of the newest rows the first step reads: enough to hold `max_results` matches
    of a keyword in 5% of labels, few enough to cost less than the index lookup it may save."""
    return max(200, 20 * max_results)


def search_plan(dialect: str, *, keyword: str, max_results: int) -> list[tuple[str, Params]]:
    """The statements that answer a search, in order: the first that returns `max_results` rows
    has the answer, else the last one's rows are it (newest first).

    The keyword is case-folded and bound as a parameter with the pattern operator's wildcards
    escaped, so `%`, `_`, `*`, `?`, `[` and quotes are plain text. For FTS5's MATCH it is one
    string in double quotes (its own quotes doubled), which MATCH takes as a phrase, never as
    query syntax. A NUL byte would end the pattern early in SQLite (and PostgreSQL refuses it),
    so it is refused on both.
    """
    if "\x00" in keyword:
        raise DatabaseRefusedValue
    folded = fold_label(keyword)
    window = search_window(max_results)
    if dialect == "sqlite":
        glob = "*" + "".join(f"[{ch}]" if ch in "*?[" else ch for ch in folded) + "*"
        phrase = '"' + folded.replace('"', '""') + '"'
        return [
            (_SQLITE_SEARCH_NEWEST, (window, glob, max_results)),
            (_SQLITE_SEARCH_INDEX, (phrase, max_results)),
        ]
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    return [
        (_POSTGRES_SEARCH_NEWEST, (window, like, max_results)),
        (_POSTGRES_SEARCH_INDEX, (like, max_results)),
    ]


async def get_row(reader: Reader, *, recipe_id: int) -> Row | None:
    if not 1 <= recipe_id <= MAX_ID:
        return None
    rows = await reader.fetch(_statement(reader.dialect, _GET), (recipe_id,))
    return rows[0] if rows else None


async def list_rows(
    reader: Reader, *, limit: int, before_id: int | None, submitter_id: int | None
) -> tuple[list[Row], bool]:
    """Rows newest first below `before_id` (a keyset cursor), and whether more follow."""
    limit = min(limit, MAX_PAGE_SIZE)
    params: list[Any] = []
    if submitter_id is not None:
        if not 1 <= submitter_id <= MAX_ID:
            return [], False
        params.append(submitter_id)
    if before_id is not None:
        params.append(min(before_id, MAX_ID))
    sql = _LIST[submitter_id is not None, before_id is not None]
    rows = await reader.fetch(_statement(reader.dialect, sql), (*params, limit + 1))
    return rows[:limit], len(rows) > limit


# Keywords that the newest rows recently failed to answer, so their next searches go straight
# to the index. A rare keyword pays for both steps of its plan: the scan of the newest rows
# (about 70 µs on SQLite at any size) finds too few matches, then the index answers. Remembering
# that for a minute spares the first step; forgetting lets a keyword that has become common get
# its cheap first step back. Either way the answer is the same: the index step alone always
# returns the newest matches.
index_first = TimedSet(ttl_seconds=60.0, max_entries=4096)


class SearchTookTooLong(DatabaseTimedOut):
    def __init__(self) -> None:
        super().__init__("The search took too long; try a longer or more specific keyword")


async def search_rows(reader: Reader, *, keyword: str, max_results: int) -> list[Row]:
    plan = search_plan(reader.dialect, keyword=keyword, max_results=max_results)
    key = (reader.dialect, fold_label(keyword), max_results)
    if index_first.remembers(key):
        plan = plan[-1:]
    rows: list[Row] = []
    for step, (sql, params) in enumerate(plan):
        # A keyword can make either step read much of the table (a pattern that is slow to
        # match, an index lookup that finds a candidate in every row), so both are costly reads.
        try:
            rows = await reader.fetch_costly(sql, params)
        except DatabaseTimedOut as exc:
            raise SearchTookTooLong from exc
        if len(rows) >= max_results:
            break
        if step == 0 and len(plan) > 1:
            index_first.remember(key)
    return rows


def _utc(value: datetime | str) -> datetime:
    # SQLite hands back the stored text; PostgreSQL an aware datetime in the session's zone.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_json(value: datetime | str) -> datetime | str:
    """The timestamp as RecipePublic writes it, or an aware datetime that encodes so.

    SQLite holds UTC as "YYYY-MM-DD HH:MM:SS.ffffff" (how SQLAlchemy stores a naive datetime);
    its JSON form is "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", the fraction left out when it is zero.
    Rewriting that text costs a third of parsing it into a datetime, on every row of a page.
    """
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        fraction = value[19:]
        return f"{value[:10]}T{value[11:19]}{'' if fraction == '.000000' else fraction}Z"
    return _utc(value)


def public_dict(row: Row) -> dict[str, Any]:
    """A row as RecipePublic's fields (no version), timestamps ready for pydantic-core's JSON."""
    return {
        "id": row[0],
        "label": row[1],
        "source": row[2],
        "url": row[3],
        "submitter_id": row[4],
        "created_at": _utc_json(row[5]),
        "updated_at": _utc_json(row[6]),
    }


def encode_recipe(row: Row) -> bytes:
    # pydantic-core's encoder: the same text (dates as "...Z") as RecipePublic's JSON.
    return to_json(public_dict(row))


def encode_results(rows: list[Row]) -> bytes:
    return to_json({"results": [public_dict(row) for row in rows]})


def encode_page(rows: list[Row], *, limit: int, has_more: bool) -> bytes:
    cursor = next_cursor_for([row[0] for row in rows], limit, has_more)
    return to_json({"results": [public_dict(row) for row in rows], "next_cursor": cursor})


def row_version(row: Row) -> int:
    version: int = row[7]
    return version
