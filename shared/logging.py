"""Logging: the request id on every line of a request, JSON in production, text locally.

`configure_logging` sets up Larder's loggers and uvicorn's with one handler: in production one
JSON object per line (timestamp, level, logger, message, request_id, and for the per-request
access line method, route, path, status, duration_ms, client); elsewhere a readable line.
uvicorn's own access log is switched off: Larder writes the per-request line itself
(shared/middleware.py), with the route template and the request id.

Nothing logged carries a password, a token or a secret: the access line has no headers, query
string or body; SQL parameters are hidden by the engine (shared/database.py); and bearer
tokens or `password=`/`token=` values that reach a message anyway are masked here.

Every record is one line, whatever a client put in a path or a message: the text format escapes
control characters (`escape_controls`: a newline becomes the two characters `\\n`, ESC `\\x1b`),
tracebacks included; the JSON format escapes them by encoding, as JSON strings must.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import logging.config
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

ACCESS_LOGGER = "larder.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
ACCESS_FIELDS = ("method", "route", "path", "status", "duration_ms", "client")

_SECRETS = (
    (re.compile(r"(?i)\b(bearer\s+)[^\s,;\"']+"), r"\1[redacted]"),
    (
        re.compile(
            r"(?i)\b((?:password|passwd|secret|token|access_token|refresh_token|api_key)"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s&,;\"']+"
        ),
        r"\1[redacted]",
    ),
)


def scrub(text: str) -> str:
    """Mask bearer tokens and `password=...`/`token: ...` values in free text."""
    if "=" not in text and ":" not in text and "bearer" not in text.lower():
        return text  # neither pattern can match (most lines, every access line without one)
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


# C0 and C1 controls, DEL, and Unicode's line and paragraph separators: text from a request
# that holds one could start what looks like a new log line, or drive the terminal showing it.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return ascii(match.group())[1:-1]  # as Python writes it in a literal: \n, \r, \x1b, \u2028


def escape_controls(text: str) -> str:
    """`text` with every control character written as a visible escape, so it stays one line."""
    if text.isprintable():
        return text  # nothing to escape (most lines); cheaper than the search
    return _CONTROLS.sub(_escape, text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):  # the access line brings its own
            record.request_id = request_id_var.get()
        return True


@dataclass(frozen=True)
class AccessEntry:
    """What the access line says about one request."""

    created: float  # time.time() at the end of the request
    request_id: str
    method: str
    route: str
    path: str
    status: int
    duration_ms: float
    client: str | None

    @property
    def message(self) -> str:
        return scrub(ACCESS_MESSAGE % (self.method, self.path, self.status, self.duration_ms))


ACCESS_MESSAGE = "%s %s %d %.2fms"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(scrub(super().format(record)))

    def format_access(self, entry: AccessEntry) -> str:
        """The line `format` would write for the access record of `entry`."""
        seconds = int(entry.created)
        msecs = int((entry.created - seconds) * 1000)
        asctime = f"{time.strftime(self.default_time_format, time.localtime(seconds))},{msecs:03d}"
        line = f"{asctime} INFO [{entry.request_id}] {ACCESS_LOGGER}: {entry.message}"
        return escape_controls(line)


# What json.dumps(entry, default=str) would build anew for every line. ensure_ascii (the
# default) writes every control character and every non-ASCII one as an escape.
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=True)
_json_string = _ENCODER.encode


class _SecondStamp:
    """The ISO text of the current second, made once per second rather than once per line."""

    second = -1
    text = ""

    def iso(self, created: float) -> str:
        second = int(created)
        if second != self.second:
            self.text = datetime.fromtimestamp(second, UTC).isoformat()[:19]
            self.second = second
        return f"{self.text}.{int((created - second) * 1000):03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for field in ACCESS_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return _ENCODER.encode(entry)

    _stamp = _SecondStamp()

    def format_access(self, entry: AccessEntry) -> str:
        """The line `format` would write for the access record of `entry`, built as text:
        the keys are fixed, so only the values need encoding."""
        client = "" if entry.client is None else f', "client": {_json_string(entry.client)}'
        return (
            f'{{"timestamp": "{self._stamp.iso(entry.created)}", "level": "INFO",'
            f' "logger": "{ACCESS_LOGGER}", "message": {_json_string(entry.message)},'
            f' "request_id": {_json_string(entry.request_id)},'
            f' "method": {_json_string(entry.method)}, "route": {_json_string(entry.route)},'
            f' "path": {_json_string(scrub(entry.path))}, "status": {entry.status},'
            f' "duration_ms": {entry.duration_ms!r}{client}}}'
        )


def logging_config(level: str = "INFO", *, json_logs: bool = False) -> dict[str, Any]:
    """A `logging.config.dictConfig` for Larder and uvicorn (serve.py hands it to uvicorn)."""
    level = level.upper()
    formatter = "shared.logging.JsonFormatter" if json_logs else "shared.logging.TextFormatter"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "shared.logging.RequestIdFilter"}},
        "formatters": {"larder": {"()": formatter}},
        "handlers": {
            "larder": {
                "class": "logging.StreamHandler",
                "formatter": "larder",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "larder": {"handlers": ["larder"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["larder"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Larder logs each request itself (route template, request id, duration).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(level: str = "INFO", *, json_logs: bool = False) -> None:
    _access_log.use(None)
    logging.config.dictConfig(logging_config(level, json_logs=json_logs))
    # The access line goes straight to Larder's handler (see AccessLog).
    for handler in logging.getLogger("larder").handlers:
        if handler.name == "larder":
            _access_log.use(handler)


class AccessLog:
    """Writes the per-request access line, in batches.

    Through `logging.Logger.handle` each line costs a record, the filters, the handler's lock,
    a JSON encoding of a dict and a flush of the stream: about 15% of the CPU of a get by id.
    So once `configure_logging` has set up Larder's handler, the access line goes to that
    handler alone, without a record. Its shape is fixed, so the handler's formatter writes it
    (`format_access`, which the tests hold to `format`'s output), and on the event loop the
    lines of a short tick go out together in one write.

    A batch stays under PIPE_BUF (4 KiB), so a write to a pipe shared by several workers is
    never interleaved with another's. A line waits at most FLUSH_DELAY_SECONDS; what is
    buffered is written when the application stops and when the process exits.
    """

    FLUSH_DELAY_SECONDS = 0.05
    MAX_BATCH_BYTES = 4096

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._size = 0
        self._flush_loop: asyncio.AbstractEventLoop | None = None
        self._target: tuple[logging.StreamHandler[Any], JsonFormatter | TextFormatter] | None = None

    def use(self, handler: logging.Handler | None) -> None:
        """Write to `handler`, Larder's own (configure_logging), or with None hand records to
        whatever logging set-up is in place."""
        self.flush()
        formatter = handler.formatter if handler is not None else None
        if isinstance(handler, logging.StreamHandler) and isinstance(
            formatter, (JsonFormatter, TextFormatter)
        ):
            self._target = handler, formatter
        else:
            self._target = None

    def write(self, entry: AccessEntry) -> None:
        logger = logging.getLogger(ACCESS_LOGGER)
        if not logger.isEnabledFor(logging.INFO):
            return
        if self._target is None or self._target[0].level > logging.INFO:
            # A logging set-up other than Larder's own: hand it an ordinary record.
            logger.handle(_access_record(logger, entry))
            return
        line = self._target[1].format_access(entry) + "\n"
        if self._size + len(line) > self.MAX_BATCH_BYTES:
            self.flush()
        self._lines.append(line)
        self._size += len(line)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        if self._flush_loop is not loop:
            self._flush_loop = loop
            loop.call_later(self.FLUSH_DELAY_SECONDS, self.flush)

    def flush(self) -> None:
        self._flush_loop = None
        if not self._lines or self._target is None:
            return
        text = "".join(self._lines)
        self._lines.clear()
        self._size = 0
        handler = self._target[0]
        with handler.lock or contextlib.nullcontext():
            try:
                handler.stream.write(text)
                handler.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream loses the lines, not the app
                pass


def _access_record(logger: logging.Logger, entry: AccessEntry) -> logging.LogRecord:
    extra = {
        "request_id": entry.request_id,
        "method": entry.method,
        "route": entry.route,
        "path": entry.path,
        "status": entry.status,
        "duration_ms": entry.duration_ms,
        "client": entry.client,
    }
    args = (entry.method, entry.path, entry.status, entry.duration_ms)
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 0, ACCESS_MESSAGE, args, None, "access", extra
    )
    record.created = entry.created
    return record


_access_log = AccessLog()
atexit.register(_access_log.flush)


def access_log() -> AccessLog:
    return _access_log
