"""A fake Reddit that misbehaves on command, served for real on a loopback port.

`FakeReddit` is the shared, in-process control object: tests set per-subreddit behaviour (a
delay, a status, a body, headers) and read the record of requests, each with its start and end
on the monotonic clock, so a test can tell concurrent requests from serial ones.
`serve_fake_reddit` runs it under uvicorn in a background thread on a free 127.0.0.1 port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.reddit.listings import posts_for


@dataclass
class Behaviour:
    delay: float = 0.0
    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    subreddit: str
    params: dict[str, str]
    user_agent: str
    started: float
    ended: float


class FakeReddit:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._behaviours: dict[str, Behaviour] = {}
        self._requests: list[RecordedRequest] = []
        # Bumped by reset(): a slow request of an earlier test that ends later is not recorded
        # as one of the current test's requests.
        self._generation = 0
        self.default = Behaviour()
        self.app = Starlette(routes=[Route("/r/{name}/top.json", self._top)])

    def behave(self, subreddit: str, **changes: object) -> None:
        """Set how one subreddit answers, e.g. behave("recipes", delay=0.3, status=503)."""
        with self._lock:
            self._behaviours[subreddit.lower()] = Behaviour(**changes)  # type: ignore[arg-type]

    def behave_all(self, **changes: object) -> None:
        with self._lock:
            self._behaviours.clear()
            self.default = Behaviour(**changes)  # type: ignore[arg-type]

    def reset(self) -> None:
        with self._lock:
            self._behaviours.clear()
            self._requests.clear()
            self._generation += 1
            self.default = Behaviour()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def calls(self, subreddit: str) -> int:
        return sum(1 for r in self.requests if r.subreddit.lower() == subreddit.lower())

    def max_overlap(self) -> int:
        """The most requests that were being served at the same moment."""
        events = sorted(
            [(r.started, 1) for r in self.requests] + [(r.ended, -1) for r in self.requests]
        )
        running = most = 0
        for _, change in events:
            running += change
            most = max(most, running)
        return most

    async def _top(self, request: Request) -> Response:
        started = time.monotonic()
        name = request.path_params["name"]
        with self._lock:
            behaviour = self._behaviours.get(name.lower(), self.default)
            generation = self._generation
        try:
            if behaviour.delay:
                await asyncio.sleep(behaviour.delay)
            limit = int(request.query_params.get("limit", "5"))
            body = behaviour.body if behaviour.body is not None else posts_for(name, limit)
            return Response(
                body,
                status_code=behaviour.status,
                media_type="application/json",
                headers=behaviour.headers,
            )
        finally:
            with self._lock:
                if generation == self._generation:
                    self._requests.append(
                        RecordedRequest(
                            subreddit=name,
                            params=dict(request.query_params),
                            user_agent=request.headers.get("user-agent", ""),
                            started=started,
                            ended=time.monotonic(),
                        )
                    )


@contextmanager
def serve(app: object, *, log_level: str = "warning") -> Iterator[str]:
    """Serve an ASGI app under uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level=log_level,
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def serve_fake_reddit() -> Iterator[tuple[FakeReddit, str]]:
    fake = FakeReddit()
    with serve(fake.app) as url:
        yield fake, url
