"""Load generators: wrk when it is installed, else a small asyncio HTTP/1.1 client.

Both hold `connections` keep-alive connections to a loopback address for a fixed time and report
requests per second and latency percentiles.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str


@dataclass(frozen=True)
class Request:
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


def _loopback_only(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host != "127.0.0.1":
        raise ValueError(f"the bench only loads 127.0.0.1, not {host}")


def run_load(
    request: Request | Sequence[Request], *, seconds: float, connections: int, threads: int
) -> LoadResult:
    """Load with `request`, or with several requests to one host taken in turn (each
    connection of the Python client keeps to one of them)."""
    requests = [request] if isinstance(request, Request) else list(request)
    for each in requests:
        _loopback_only(each.url)
    if shutil.which("wrk"):
        return _wrk(requests, seconds=seconds, connections=connections, threads=threads)
    return asyncio.run(_python_load(requests, seconds=seconds, connections=connections))


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def _wrk_script(requests: list[Request]) -> str:
    if len(requests) == 1:
        (request,) = requests
        lines = [f'wrk.method = "{request.method}"']
        if request.body is not None:
            lines.append(f"wrk.body = {_lua_string(request.body.decode())}")
        for name, value in request.headers:
            lines.append(f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}")
        return "\n".join(lines) + "\n"
    # Each wrk thread formats the requests once, then sends them in turn.
    lines = ["local formatted = {}", "local sent = 0", "init = function(args)"]
    for request in requests:
        parts = urllib.parse.urlsplit(request.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = ", ".join(f"[{_lua_string(n)}] = {_lua_string(v)}" for n, v in request.headers)
        body = "nil" if request.body is None else _lua_string(request.body.decode())
        lines.append(
            f"  table.insert(formatted, wrk.format({_lua_string(request.method)},"
            f" {_lua_string(target)}, {{{headers}}}, {body}))"
        )
    lines += [
        "end",
        "request = function()",
        "  sent = sent + 1",
        "  return formatted[(sent % #formatted) + 1]",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _wrk(requests: list[Request], *, seconds: float, connections: int, threads: int) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="larder-bench-") as scratch:
        script = Path(scratch) / "request.lua"
        script.write_text(_wrk_script(requests))
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            requests[0].url,
        ]
        output = subprocess.run(  # noqa: S603 - fixed command, loopback URL checked above
            command, capture_output=True, text=True, check=True, timeout=seconds + 30
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(errors_match.group(1)) if errors_match else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(rps, p50, p99, errors, "wrk")


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _raw(request: Request) -> bytes:
    parts = urllib.parse.urlsplit(request.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = [f"{request.method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{name}: {value}" for name, value in request.headers]
    body = request.body or b""
    if request.body is not None:
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _python_load(requests: list[Request], *, seconds: float, connections: int) -> LoadResult:
    parts = urllib.parse.urlsplit(requests[0].url)
    raws = [_raw(request) for request in requests]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(number: int) -> None:
        nonlocal errors
        raw = raws[number % len(raws)]
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(raw)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if not status_line.split(b" ")[1].startswith((b"2", b"3")):
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(number) for number in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(fraction: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * fraction))] * 1000

    return LoadResult(len(latencies) / elapsed, percentile(0.5), percentile(0.99), errors, "python")
