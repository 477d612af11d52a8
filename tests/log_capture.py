"""Reading what Larder's own logging set-up writes."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from shared.logging import access_log, configure_logging

StreamT = TypeVar("StreamT", bound=io.StringIO)


@contextmanager
def larder_log_into(stream: StreamT, *, json_logs: bool) -> Iterator[StreamT]:
    """Larder's logging configured as `configure_logging` does (JSON as in production, or
    text), its handler writing to `stream` until the block ends, queued access lines included."""
    configure_logging("INFO", json_logs=json_logs)
    (handler,) = [h for h in logging.getLogger("larder").handlers if h.name == "larder"]
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        access_log().flush()
        handler.setStream(previous)
