"""`make bench`: Larder against a FastAPI hello world, on SQLite and PostgreSQL, at growing sizes.

For each database it creates a bench database, grows it to each size in turn (10k and 100k rows;
1M too with BENCH_FULL=1), serves Larder and the baseline under the same uvicorn settings,
loads each scenario with wrk (2 s warm-up, 5 s measured), and prints the table and the verdict
on the targets; the same goes to bench/RESULTS.md.

Environment: BENCH_DATABASES (default "sqlite,postgresql"), BENCH_SIZES (e.g. "10000,100000"),
BENCH_FULL=1, BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS, BENCH_THREADS,
BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/larder_bench: created and
dropped by the bench), BENCH_RESULTS=0 to leave RESULTS.md alone.
"""

from __future__ import annotations

import os
import urllib.request

from sqlalchemy import create_engine, text

from bench import fill, report
from bench.extras import ideas_report, workers_report
from bench.load import LoadResult, Request, run_load
from bench.login import LOGIN_CONNECTIONS, run_login_bench
from bench.login import report_lines as login_report
from bench.report import BASELINE, Measurement
from bench.scenarios import SCENARIOS, BenchContext
from bench.servers import ROOT, Server, serve
from bench.writes import WRITERS, run_writes_bench
from bench.writes import report_lines as writes_report
from shared.settings import normalise_database_url

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
WARMUP = float(os.environ.get("BENCH_WARMUP_SECONDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
TARGET_ROWS = 100_000
DATABASE_URLS = {
    "sqlite": f"sqlite:///{ROOT / 'bench' / 'out' / 'bench.db'}",
    "postgresql": os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/larder_bench"
    ),
}


def sizes() -> list[int]:
    if "BENCH_SIZES" in os.environ:
        return [int(size) for size in os.environ["BENCH_SIZES"].split(",")]
    return (
        [10_000, 100_000, 1_000_000] if os.environ.get("BENCH_FULL") == "1" else [10_000, 100_000]
    )


def measure(request: Request) -> LoadResult:
    run_load(request, seconds=WARMUP, connections=CONNECTIONS, threads=THREADS)
    return run_load(request, seconds=SECONDS, connections=CONNECTIONS, threads=THREADS)


def fetch(url: str, headers: dict[str, str], method: str, body: bytes | None) -> tuple[int, bytes]:
    outgoing = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def bench_larder(
    server: Server, context: BenchContext
) -> list[tuple[str, LoadResult, frozenset[str]]]:
    results = []
    for scenario in SCENARIOS:
        headers = scenario.setup(context) if scenario.setup else {}
        if scenario.content_type:
            headers["Content-Type"] = scenario.content_type
        url = server.base_url + scenario.resolve_path(context)
        status, _ = fetch(url, headers, scenario.method, scenario.body)
        if status != scenario.expect_status:
            raise RuntimeError(f"{scenario.name}: {url} answered {status}")
        request = Request(url, scenario.method, tuple(headers.items()), scenario.body)
        result = measure(request)
        print(f"  {scenario.name:<28} {result.requests_per_second:>8,.0f} req/s", flush=True)
        results.append((scenario.name, result, scenario.tags))
    return results


def run_database(
    database: str,
    measurements: list[Measurement],
    rss: dict[tuple[str, int], float],
    extra_lines: list[str],
    write_lines: list[str],
) -> None:
    url = DATABASE_URLS[database]
    fill.create_database(url)
    try:
        for rows in sizes():
            print(f"{database}: growing to {rows:,} rows", flush=True)
            shape = fill.grow(url, rows=rows)
            # Write the filled pages out now, not in the background during the first scenario.
            os.sync()
            # Production's logging: Larder's JSON line per request at the default level.
            env = {
                "DATABASE_URL": url,
                "ENVIRONMENT": "local",
                "LOG_FORMAT": "json",
                # The login scenario keeps LOGIN_CONNECTIONS logins to one account in flight
                # from one address; each counts as an attempt until it succeeds.
                "LOGIN_MAX_FAILURES": str(4 * LOGIN_CONNECTIONS),
            }
            with serve("main:app", env=env, ready_path="/api/v1/recipes/?limit=1") as larder:
                context = BenchContext(larder.base_url, database, shape)
                middle = (shape.min_id + shape.max_id) // 2
                _, sample = fetch(f"{larder.base_url}/api/v1/recipes/{middle}", {}, "GET", None)
                baseline_env = {"BENCH_BASELINE_BYTES": str(len(sample))}
                # The baseline runs before and after Larder (each server idles while the other
                # is loaded) and counts as the mean, so a noisy minute skews no single ratio.
                with serve("bench.baseline:app", env=baseline_env, ready_path="/") as baseline:
                    before = measure(Request(baseline.base_url + "/"))
                    results = bench_larder(larder, context)
                    after = measure(Request(baseline.base_url + "/"))
                rss[database, shape.rows] = larder.rss_mb()
                if rows == sizes()[-1]:
                    print(f"{database}: logins", flush=True)
                    figures = run_login_bench(
                        larder.base_url, f"/api/v1/recipes/{middle}", seconds=SECONDS,
                        warmup=WARMUP, connections=CONNECTIONS, threads=THREADS,
                    )  # fmt: skip
                    extra_lines.extend(login_report(f"{database}, {rows:,} rows", figures))
                    print(f"{database}: {WRITERS} concurrent writers", flush=True)
                    writes = run_writes_bench(
                        larder.base_url, seconds=SECONDS, warmup=WARMUP, threads=THREADS
                    )
                    write_lines.extend(writes_report(f"{database}, {rows:,} rows", writes))
            base = LoadResult(
                (before.requests_per_second + after.requests_per_second) / 2,
                (before.p50_ms + after.p50_ms) / 2,
                (before.p99_ms + after.p99_ms) / 2,
                before.errors + after.errors,
                before.tool,
            )
            print(f"  {BASELINE:<28} {base.requests_per_second:>8,.0f} req/s", flush=True)
            measurements.append(
                Measurement(database, BASELINE, shape.rows, base.requests_per_second,
                            base.p50_ms, base.p99_ms, 1.0, base.errors, frozenset())
            )  # fmt: skip
            for name, result, tags in results:
                measurements.append(
                    Measurement(database, name, shape.rows, result.requests_per_second,
                                result.p50_ms, result.p99_ms,
                                result.requests_per_second / base.requests_per_second,
                                result.errors, tags)
                )  # fmt: skip
    finally:
        fill.drop_database(url)


def postgres_version() -> str | None:
    try:
        engine = create_engine(
            normalise_database_url(DATABASE_URLS["postgresql"]).rsplit("/", 1)[0] + "/postgres"
        )
        with engine.connect() as connection:
            version = str(connection.execute(text("SHOW server_version")).scalar_one())
        engine.dispose()
        return version
    except Exception:  # the version is only for the report
        return None


def main() -> None:
    databases = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    measurements: list[Measurement] = []
    rss: dict[tuple[str, int], float] = {}
    login_lines: list[str] = []
    write_lines: list[str] = []
    for database in databases:
        run_database(database, measurements, rss, login_lines, write_lines)
    ideas_lines = ideas_report() if os.environ.get("BENCH_IDEAS", "1") != "0" else []
    run_workers = "postgresql" in databases and os.environ.get("BENCH_WORKERS", "1") != "0"
    workers_lines = workers_report() if run_workers else []
    rss_lines = [f"- {db}, {rows:,} rows: {mb:.0f} MB" for (db, rows), mb in rss.items()]
    body = "\n".join(
        [
            "# Larder bench results",
            "",
            "Written by `make bench` (bench/run.py). One uvicorn worker (uvloop, httptools) per",
            f"app, wrk with {CONNECTIONS} connections and {THREADS} threads on the same machine,",
            f"{WARMUP:g} s warm-up then {SECONDS:g} s measured per line. The baseline is a",
            "FastAPI hello world answering JSON of the size of one recipe, served the same way",
            "in the same run, before and after Larder at every size (the mean counts).",
            "",
            *report.environment(postgres_version() if "postgresql" in databases else None,
                                report.wrk_version()),
            "",
            report.table(measurements),
            "",
            "## Targets",
            "",
            *report.verdicts(measurements, rss, TARGET_ROWS),
            "",
            "## Worker memory (RSS) after the run",
            "",
            *rss_lines,
            "",
            "## Logins (at the largest size)",
            "",
            *login_lines,
            "",
            f"## Writes ({WRITERS} concurrent writers creating recipes, at the largest size)",
            "",
            *write_lines,
            "",
            "## Ideas from Reddit (fake Reddit on loopback, 200 ms per subreddit)",
            "",
            *(ideas_lines or ["- not run (BENCH_IDEAS=0)"]),
            "",
            "## Two workers against one (PostgreSQL, GET /api/v1/recipes/{id})",
            "",
            *(workers_lines or ["- not run (PostgreSQL not benched, or BENCH_WORKERS=0)"]),
            "",
        ]
    )  # fmt: skip
    print()
    print(body)
    if os.environ.get("BENCH_RESULTS", "1") != "0":
        report.write_results(body)


if __name__ == "__main__":
    main()
