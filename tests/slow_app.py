"""Larder plus three routes that only tests need, served by real uvicorn processes:
`uvicorn --factory tests.slow_app:make_app` or `python -m serve --factory --app ...`.

- `GET /test/slow?seconds=`: answers after a while; touches `$SLOW_MARKER` when it starts, so a
  test knows the request is in flight before it signals the server.
- `GET /test/boom`: raises an unexpected exception whose message must never reach the client.
- `GET /test/client`: the client address and scheme the application sees.
"""

from __future__ import annotations

import asyncio
import os

import anyio
from fastapi import FastAPI, Request

from main import create_app

SECRET_IN_ERROR = "password=hunter2 at /srv/larder/secret.py"


def make_app() -> FastAPI:
    app = create_app()

    @app.get("/test/slow")
    async def slow(seconds: float = 1.0) -> dict[str, float]:
        marker = os.environ.get("SLOW_MARKER")
        if marker:
            await anyio.Path(marker).touch()
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @app.get("/test/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET_IN_ERROR)

    @app.get("/test/client")
    async def client(request: Request) -> dict[str, str | None]:
        host = request.client.host if request.client else None
        return {"client": host, "scheme": request.url.scheme}

    return app
