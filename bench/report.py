"""The bench's table, its verdict on Larder's targets, and bench/RESULTS.md."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BASELINE = "baseline (FastAPI hello world)"
RESULTS_FILE = Path(__file__).parent / "RESULTS.md"


@dataclass(frozen=True)
class Measurement:
    database: str
    endpoint: str
    rows: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    ratio: float
    errors: int
    tags: frozenset[str]


def table(measurements: list[Measurement]) -> str:
    lines = [
        "| database | endpoint | rows | req/s | p50 ms | p99 ms | vs baseline | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        lines.append(
            f"| {m.database} | {m.endpoint} | {m.rows:,} | {m.requests_per_second:,.0f} | "
            f"{m.p50_ms:.2f} | {m.p99_ms:.2f} | {m.ratio:.2f}x | {m.errors} |"
        )
    return "\n".join(lines)


def _find(ms: list[Measurement], database: str, rows: int, tag: str) -> list[Measurement]:
    return [m for m in ms if m.database == database and m.rows == rows and tag in m.tags]


def verdicts(
    measurements: list[Measurement], rss_mb: dict[tuple[str, int], float], target_rows: int
) -> list[str]:
    """One line per target per database: the figure, the target and whether it is met."""
    lines: list[str] = []
    for database in dict.fromkeys(m.database for m in measurements):
        sizes = sorted({m.rows for m in measurements if m.database == database})
        at = target_rows if target_rows in sizes else sizes[-1]

        def check(
            label: str, value: float, limit: float, *, at_least: bool, db: str = database
        ) -> None:
            met = value >= limit if at_least else value <= limit
            sign = ">=" if at_least else "<="
            verdict = "met" if met else "MISSED"
            lines.append(f"- {db}: {label}: {value:.2f} ({sign} {limit}) {verdict}")

        for m in _find(measurements, database, at, "get"):
            check(f"get by id at {at:,} rows, vs baseline", m.ratio, 0.5, at_least=True)
        for tag in ("first page", "search"):
            for m in _find(measurements, database, at, tag):
                check(f"{m.endpoint} at {at:,} rows, vs baseline", m.ratio, 0.35, at_least=True)
        smallest, largest = sizes[0], sizes[-1]
        if largest > smallest:
            for small in _find(measurements, database, smallest, "search"):
                (big,) = [
                    m for m in _find(measurements, database, largest, "search")
                    if m.endpoint == small.endpoint
                ]  # fmt: skip
                check(
                    f"{small.endpoint} p50 at {largest:,} / at {smallest:,} rows",
                    big.p50_ms / small.p50_ms,
                    2.0,
                    at_least=False,
                )
        for rows in sizes:
            (first,) = _find(measurements, database, rows, "first page")
            (deep,) = _find(measurements, database, rows, "deep page")
            check(
                f"deep-cursor p50 / first-page p50 at {rows:,} rows",
                deep.p50_ms / first.p50_ms,
                1.5,
                at_least=False,
            )
        for (db, rows), rss in rss_mb.items():
            if db == database:
                check(f"worker RSS after the run at {rows:,} rows, MB", rss, 150, at_least=False)
    return lines


def environment(postgres_version: str | None, load_tool: str) -> list[str]:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    packages: tuple[str, ...] = (
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "pydantic",
        "sqlalchemy",
    )
    packages += ("sqlmodel", "psycopg")
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in packages)
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu}, {os.cpu_count()} cores, {memory_gb:.0f} GiB, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- SQLite {sqlite3.sqlite_version}"
        + (f"; PostgreSQL {postgres_version}" if postgres_version else ""),
        f"- load: {load_tool}",
    ]
    return lines


def wrk_version() -> str:
    if not shutil.which("wrk"):
        return "Python asyncio client (wrk not installed)"
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)  # noqa: S607
    return (done.stdout or done.stderr).splitlines()[0].strip()


def write_results(body: str) -> None:
    RESULTS_FILE.write_text(body)
