"""The baseline: a FastAPI hello-world answering a fixed JSON document.

Served by the same uvicorn, worker count and loop as Larder in the same bench run; its document
is padded to `BENCH_BASELINE_BYTES` (set by the bench to the size of a recipe's JSON), so the
ratio compares like with like.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

BODY_BYTES = int(os.environ.get("BENCH_BASELINE_BYTES", "256"))
# {"message":"Hello World","padding":"..."} serialises to BODY_BYTES bytes.
PAYLOAD = {
    "message": "Hello World",
    "padding": "x" * max(0, BODY_BYTES - len('{"message":"Hello World","padding":""}')),
}

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return PAYLOAD
