"""The suite's own guards, set in pyproject.toml: a hung test fails, and so does a warning."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_has_a_timeout(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.hasplugin("timeout")
    assert float(request.config.getini("timeout")) > 0


def test_a_hung_test_fails_instead_of_waiting(tmp_path: Path) -> None:
    hung = tmp_path / "test_hung.py"
    hung.write_text("import time\n\ndef test_hangs():\n    time.sleep(60)\n", encoding="utf-8")
    # Larder's pytest settings, with the timeout shortened so this test stays quick.
    result = subprocess.run(  # noqa: S603 - this interpreter's pytest, fixed arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "-o",
            "timeout=1",
            str(hung),
        ],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Timeout" in result.stdout
    assert "1 failed" in result.stdout


def test_a_warning_fails_the_test_that_caused_it() -> None:
    with pytest.raises(UserWarning, match="left open"):
        warnings.warn("a resource was left open", UserWarning, stacklevel=1)
