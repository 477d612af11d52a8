"""Logs cannot be forged: whatever a request holds, each record is one line.

A percent-encoded newline in a path arrives decoded in the ASGI scope; so do carriage returns,
ESC (terminal colours and cursor moves) and Unicode's line separators. The text format writes
them as visible escapes; the JSON format encodes them.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from shared.logging import access_log, configure_logging, escape_controls
from shared.middleware import RequestContextMiddleware
from tests.log_capture import larder_log_into

# Every character that could end a line or reach the terminal as a command.
CONTROLS = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)]


def _raw_controls(text: str) -> list[str]:
    """Control characters in `text`, the newline that ends each line aside."""
    return [ch for line in text.split("\n") for ch in line if ch in CONTROLS]


class LogStream(io.StringIO):
    def lines(self) -> list[str]:
        access_log().flush()
        return self.getvalue().splitlines()


@pytest.fixture(params=["text", "json"])
def log_format(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def log(client: TestClient, log_format: str) -> Iterator[LogStream]:
    """Larder's logging in `log_format`, its stream swapped for one the test reads. Set up after
    `client` has started the application, whose start-up configures logging too."""
    access_log().flush()
    with larder_log_into(LogStream(), json_logs=log_format == "json") as stream:
        yield stream
    configure_logging("INFO")


@pytest.mark.parametrize(
    ("url", "path", "escaped"),
    [
        ("/%0Afake%20line", "/\nfake line", "/\\nfake line"),
        ("/%0D%1B[31m", "/\r\x1b[31m", "/\\r\\x1b[31m"),
        ("/%E2%80%A8x%C2%85y", "/\u2028x\x85y", "/\\u2028x\\x85y"),
    ],
    ids=["newline", "carriage-return-and-escape", "unicode-line-separators"],
)
def test_a_path_with_controls_makes_one_access_line(
    client: TestClient, log: LogStream, log_format: str, url: str, path: str, escaped: str
) -> None:
    response = client.get(url)
    assert response.status_code == 404

    lines = log.lines()
    assert len(lines) == 1, lines
    (line,) = lines
    assert _raw_controls(log.getvalue()) == []
    if log_format == "json":
        assert json.loads(line)["path"] == path  # the exact path, escaped only by the encoding
    else:
        assert f"GET {escaped} 404 " in line


def test_a_message_with_user_input_stays_one_line(log: LogStream, log_format: str) -> None:
    email = "cook@example.com\n2026-01-01 00:00:00,000 INFO [-] larder.auth: admin signed in"
    logging.getLogger("larder.emails").error("an email to %s was not sent", email)

    (line,) = log.lines()
    assert _raw_controls(log.getvalue()) == []
    if log_format == "json":
        assert json.loads(line)["message"] == f"an email to {email} was not sent"
    else:
        assert "cook@example.com\\n2026-01-01" in line


def test_an_unhandled_error_and_its_traceback_stay_one_line(
    log: LogStream, log_format: str
) -> None:
    async def failing_app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("no recipe called\n\x1b[2Jfake line")

    client = TestClient(RequestContextMiddleware(failing_app), raise_server_exceptions=False)
    assert client.get("/%0Aforged").status_code == 500

    lines = log.lines()
    assert len(lines) == 2, lines  # the error with its traceback, and the access line
    assert _raw_controls(log.getvalue()) == []
    error = lines[0]
    if log_format == "json":
        record = json.loads(error)
        assert record["message"] == "unhandled error on GET /\nforged"
        assert "RuntimeError: no recipe called\n\x1b[2Jfake line" in record["exception"]
    else:
        assert "unhandled error on GET /\\nforged" in error
        assert "RuntimeError: no recipe called\\n\\x1b[2Jfake line" in error
        assert "Traceback (most recent call last):\\n" in error


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_control_character_is_escaped_visibly(control: str) -> None:
    escaped = escape_controls(f"a{control}b")
    assert escaped.startswith("a\\") and escaped.endswith("b")
    assert _raw_controls(escaped) == []
    assert escaped.encode().decode("unicode_escape") == f"a{control}b"


def test_printable_text_is_left_alone() -> None:
    for text in ("GET /api/v1/recipes/7 200 0.21ms", "päth ünïcode 日本 \\n", ""):
        assert escape_controls(text) == text
