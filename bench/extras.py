"""The scenarios that run once per bench rather than per database and size: the ideas feed
(against a fake Reddit) and two workers against one (PostgreSQL)."""

from __future__ import annotations

import os

from bench.ideas import COLD_LATENCY_TARGET, WARM_RATIO_TARGET, run_ideas_bench
from bench.workers import DEFAULT_URL, TARGET_RATIO, prepare_database, requests_per_second, serving

WORKERS_SECONDS = float(os.environ.get("BENCH_SECONDS", "5")) + 3


def ideas_report() -> list[str]:
    print("ideas: cold and warm cache", flush=True)
    result = run_ideas_bench()
    cold = ", ".join(f"{seconds * 1000:.0f}" for seconds in result.cold_latencies_s)
    cold_verdict = "met" if result.cold_ratio <= COLD_LATENCY_TARGET else "MISSED"
    warm_verdict = "met" if result.warm_ratio >= WARM_RATIO_TARGET else "MISSED"
    return [
        f"- cold cache: {cold} ms; median {result.cold_ratio:.2f}x one subreddit's delay "
        f"(target at most {COLD_LATENCY_TARGET}x: {cold_verdict})",
        f"- warm cache: {result.warm_rps:,.0f} req/s against the hello world's "
        f"{result.hello_rps:,.0f}: {result.warm_ratio:.2f}x (target at least "
        f"{WARM_RATIO_TARGET}x: {warm_verdict}); every request signed in with a real bearer "
        "token, cache in the process",
    ]


def workers_report() -> list[str]:
    print("workers: one, then two", flush=True)
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recipe_id = prepare_database(url, recipes=1000)
    figures = {}
    for workers in (1, 2):
        with serving("uvicorn", workers, url) as base:
            figures[workers] = requests_per_second(
                f"{base}/api/v1/recipes/{recipe_id}", WORKERS_SECONDS
            )
    ratio = figures[2] / figures[1]
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    return [
        f"- uvicorn, 1 worker: {figures[1]:,.0f} req/s; 2 workers: {figures[2]:,.0f} req/s: "
        f"{ratio:.2f}x (target at least {TARGET_RATIO}x: {verdict})",
    ]
