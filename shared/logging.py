"""Logging: the request id on every line of a request, JSON in production, text locally.

`configure_logging` sets up Larder's loggers and uvicorn's with one handler: in production one
JSON object per line (timestamp, level, logger, message, request_id, and for the per-request
access line method, route, path, status, duration_ms, client); elsewhere a readable line.
uvicorn's own access log is switched off: Larder writes the per-request line itself
(shared/middleware.py), with the route template and the request id.

Nothing logged carries a password, a token or a secret: the access line has no headers, query
string or body; SQL parameters are hidden by the engine (shared/database.py); and bearer
tokens or `password=`/`token=` values that reach a message anyway are masked here.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

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


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


# What json.dumps(entry, default=str) would build anew for every line.
_ENCODER = json.JSONEncoder(default=str)


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
                entry[field] = value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return _ENCODER.encode(entry)


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
    logging.config.dictConfig(logging_config(level, json_logs=json_logs))
