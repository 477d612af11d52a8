"""Starts an ASGI app under uvicorn on a free loopback port, the same way for Larder and the
baseline: one worker, uvloop and httptools, no uvicorn access log, no Server header.

As under `make serve`, each server gets a fresh PROMETHEUS_MULTIPROC_DIR, and what it logs
(Larder's own line per request included) goes to bench/out/<app>.log rather than the
bench's output."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int

    def rss_mb(self) -> float:
        """Resident memory of the worker (with one worker, uvicorn serves in-process)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: str, *, env: dict[str, str], ready_path: str) -> Iterator[Server]:
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", app,
        "--host", HOST, "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools",
        "--no-server-header", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    metrics_dir = tempfile.mkdtemp(prefix="larder-bench-metrics-")
    log_path = ROOT / "bench" / "out" / f"{app.split(':')[0]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://{HOST}:{port}"
    try:
        _wait_until_ready(base_url + ready_path, process)
        yield Server(base_url=base_url, pid=process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see bench/out/")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"server not ready at {url}")
