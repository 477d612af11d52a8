"""The access line: written as text by the formatters, in batches, and the same as a record."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from shared.logging import (
    ACCESS_LOGGER,
    AccessEntry,
    AccessLog,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    access_log,
    configure_logging,
    request_id_var,
    scrub,
)
from tests.log_capture import larder_log_into

ENTRIES = [
    AccessEntry(1_796_000_000.1234, "abc123", "GET", "/api/v1/recipes/{recipe_id}",
                "/api/v1/recipes/7", 200, 0.21, "127.0.0.1"),
    AccessEntry(1_796_000_000.0, "-", "POST", "unmatched", '/a "quoted" päth/\\x', 404, 12.5,
                None),
    AccessEntry(1_796_000_059.9999, "id", "GET", "unmatched", "/reset/token=s3cret", 422, 1.0,
                "::1"),
]  # fmt: skip


def record_for(entry: AccessEntry) -> logging.LogRecord:
    """The record the logging module would make for the access line of `entry`."""
    logger = logging.getLogger(ACCESS_LOGGER)
    extra = {
        "method": entry.method,
        "route": entry.route,
        "path": entry.path,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "client": entry.client,
    }
    args = (entry.method, entry.path, entry.status, entry.duration_ms)
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, "%s %s %d %.2fms", args, None, None, extra
    )
    record.created = entry.created
    record.msecs = (entry.created - int(entry.created)) * 1000
    token = request_id_var.set(entry.request_id)
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    return record


@pytest.mark.parametrize("entry", ENTRIES)
def test_json_access_line_is_what_the_formatter_writes_for_the_record(entry: AccessEntry) -> None:
    formatter = JsonFormatter()

    line = formatter.format_access(entry)

    assert line == formatter.format(record_for(entry))
    parsed = json.loads(line)
    assert parsed["path"] == scrub(entry.path) and parsed["request_id"] == entry.request_id
    assert "s3cret" not in line


@pytest.mark.parametrize("entry", ENTRIES)
def test_text_access_line_is_what_the_formatter_writes_for_the_record(entry: AccessEntry) -> None:
    formatter = TextFormatter()

    assert formatter.format_access(entry) == formatter.format(record_for(entry))


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


@pytest.fixture
def captured() -> Iterator[CountingStream]:
    """Larder's logging configured as in production, its stream swapped for one we read."""
    with larder_log_into(CountingStream(), json_logs=True) as stream:
        yield stream


def test_lines_of_one_tick_go_out_in_one_write(captured: CountingStream) -> None:
    async def three_requests() -> tuple[int, int]:
        for entry in ENTRIES:
            access_log().write(entry)
        written_at_once = len(captured.writes)
        await asyncio.sleep(AccessLog.FLUSH_DELAY_SECONDS * 3)
        return written_at_once, len(captured.writes)

    at_once, after_the_tick = asyncio.run(three_requests())

    assert (at_once, after_the_tick) == (0, 1)
    lines = captured.getvalue().splitlines()
    assert [json.loads(line)["path"] for line in lines] == [scrub(e.path) for e in ENTRIES]


def test_a_batch_never_exceeds_pipe_buf(captured: CountingStream) -> None:
    async def many_requests() -> None:
        for _ in range(100):
            access_log().write(ENTRIES[0])
        await asyncio.sleep(AccessLog.FLUSH_DELAY_SECONDS * 3)

    asyncio.run(many_requests())

    assert len(captured.getvalue().splitlines()) == 100
    assert len(captured.writes) > 1
    assert all(len(text) <= AccessLog.MAX_BATCH_BYTES for text in captured.writes)
    assert all(text.endswith("\n") for text in captured.writes)


def test_outside_an_event_loop_a_line_is_written_at_once(captured: CountingStream) -> None:
    access_log().write(ENTRIES[0])

    assert len(captured.writes) == 1
    assert json.loads(captured.writes[0])["request_id"] == "abc123"


def test_a_flush_writes_what_waits(captured: CountingStream) -> None:
    async def write_then_stop() -> None:
        access_log().write(ENTRIES[0])

    asyncio.run(write_then_stop())  # the loop ends before its flush is due
    assert captured.writes == []

    access_log().flush()

    assert len(captured.writes) == 1


def test_a_quieter_level_writes_no_access_line(captured: CountingStream) -> None:
    logging.getLogger("larder").setLevel(logging.WARNING)

    access_log().write(ENTRIES[0])
    access_log().flush()

    assert captured.writes == []


def test_another_logging_set_up_gets_an_ordinary_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    access_log().use(None)
    try:
        with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
            access_log().write(ENTRIES[0])
    finally:
        configure_logging("INFO")
    record = next(r for r in caplog.records if r.name == ACCESS_LOGGER)
    assert record.getMessage() == "GET /api/v1/recipes/7 200 0.21ms"
    assert record.__dict__["route"] == "/api/v1/recipes/{recipe_id}"
    assert record.__dict__["request_id"] == "abc123"
