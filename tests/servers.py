"""Real server processes for tests: uvicorn (or `python -m serve`) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(**overrides: str) -> dict[str, str]:
    """The test run's environment (database, light argon2 profile), without Redis or SMTP."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "SMTP_HOST", "PROMETHEUS_MULTIPROC_DIR"}
    }
    env.update(overrides)
    return env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    _log_file: object = field(repr=False)

    def client(self, **kwargs: object) -> httpx2.Client:
        return httpx2.Client(base_url=self.base_url, timeout=10.0, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit code (killing it if it will not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def wait_until_live(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx2.get(f"{base_url}/health/live", timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start in time:\n{log_path.read_text()}")


@contextmanager
def run_server(
    args: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] | None = None,
    port: int | None = None,
) -> Iterator[Server]:
    """Start `uvicorn main:app` (plus `args`), or `command`, and stop it afterwards.

    `command` may contain `{port}` (the port is also in `PORT`); its output goes to a log file
    the test can read.
    """
    port = port or free_port()
    if command is None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "main:app",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--no-access-log",
            "--no-proxy-headers",  # as `make run`: Larder decides who the client is
            *(args or ()),
        ]
    argv = [part.replace("{port}", str(port)) for part in command]
    process_env = dict(env if env is not None else server_env())
    process_env["PORT"] = str(port)  # what `python -m serve` listens on
    log_file = tempfile.NamedTemporaryFile(prefix="larder-server-", suffix=".log", delete=False)  # noqa: SIM115
    log_path = Path(log_file.name)
    process = subprocess.Popen(  # noqa: S603 - a fixed command line built by the tests
        argv,
        cwd=ROOT,
        env=process_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(process, f"http://127.0.0.1:{port}", log_path, log_file)
    try:
        wait_until_live(server.base_url, process, log_path)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log_file.close()
        log_path.unlink(missing_ok=True)
