"""Prometheus metrics: request counts and latencies by route template, method and status.

With several worker processes every process counts its own requests, so `/metrics` must merge
them: set `PROMETHEUS_MULTIPROC_DIR` to an empty directory before the workers start (`make
serve` does) and prometheus-client keeps each process's values in files there that any worker
can add up. Without it, the figures are those of the one process that answers.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.types import Scope

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Paths that match no route share one label, so scanners cannot blow up the label space.
UNMATCHED_ROUTE = "unmatched"
LABELS = ("method", "route", "status")
# From 5 ms (an ETag hit) to 10 s (a request that waited on a pool and a slow database).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "larder_http_requests_total", "HTTP requests answered, by route template.", LABELS
)
LATENCY = Histogram(
    "larder_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by route template.",
    LABELS,
    buckets=LATENCY_BUCKETS,
)

# Labelled children, looked up once per (method, route, status): `labels()` takes a lock and
# validates its arguments, which is worth skipping on every request.
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def route_template(scope: Scope) -> str:
    """The path template of the route that handled the request, never the raw path.

    The route object knows its template relative to the router it was declared on
    (`/recipes/{recipe_id}`); the prefixes it was included under (`/api/v1`, a root path) are
    what the request's path has in front of the part that route matched.
    """
    template = getattr(scope.get("route"), "path_format", None)
    if not isinstance(template, str):
        return UNMATCHED_ROUTE
    path: str = scope["path"]
    try:
        matched = template.format_map(scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return template
    if matched and path.endswith(matched):
        return path[: len(path) - len(matched)] + template
    return template


def observe(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        labels = {"method": method, "route": route, "status": str(status)}
        children = (REQUESTS.labels(**labels), LATENCY.labels(**labels))
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def render() -> bytes:
    """The exposition text: every worker's figures when in multiprocess mode."""
    if os.environ.get(MULTIPROC_DIR_ENV):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics() -> Response:
    return Response(render(), media_type=CONTENT_TYPE_LATEST)
