"""The import-linter contracts in pyproject.toml hold for Larder and break when they should.

Each case copies Larder's packages to a temporary directory, adds one module that breaks one
rule, and runs `lint-imports` for that rule's contract alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGES: list[str] = PYPROJECT["tool"]["importlinter"]["root_packages"]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(project: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    selected = [argument for contract in contracts for argument in ("--contract", contract)]
    return subprocess.run(  # noqa: S603 - the project's own lint-imports, fixed arguments
        [LINT_IMPORTS, "--no-cache", *selected],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def python_files_only(directory: str, names: list[str]) -> set[str]:
    """What copytree skips: everything but Python files and the folders that hold them."""
    skipped = {name for name in names if name == "__pycache__"}
    skipped.update(
        name for name in names if not name.endswith(".py") and not (Path(directory) / name).is_dir()
    )
    return skipped


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=python_files_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_larder_keeps_its_import_contracts() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("contract", "modules", "reported"),
    [
        pytest.param(
            "feature-layers",
            {"users/extra.py": "import recipes.service\n"},
            "users.extra -> recipes.service",
            id="users-imports-recipes",
        ),
        pytest.param(
            "feature-layers",
            {"shared/extra.py": "import auth.models\n"},
            "shared.extra -> auth.models",
            id="shared-imports-a-feature",
        ),
        pytest.param(
            "feature-layers",
            {"reddit/extra.py": "import recipes.models\n"},
            "reddit.extra -> recipes.models",
            id="reddit-imports-recipes",
        ),
        pytest.param(
            "feature-layers",
            {"users/extra.py": "import auth.service\n"},
            "users.extra -> auth.service",
            id="a-second-arrow-back",
        ),
        pytest.param(
            "reddit-through-auth",
            {"reddit/extra.py": "import users.models\n"},
            "reddit.extra -> users.models",
            id="reddit-imports-users",
        ),
        pytest.param(
            "feature-public-modules",
            {"recipes/extra.py": "import users.router\n"},
            "recipes.extra -> users.router",
            id="a-feature-imports-another-router",
        ),
        pytest.param(
            "feature-public-modules",
            {"recipes/extra.py": "from auth.passwords import hash_password\n"},
            "recipes.extra -> auth.passwords",
            id="a-feature-imports-another-helper",
        ),
        pytest.param(
            "nothing-imports-main",
            {"shared/extra.py": "import main\n"},
            "shared.extra -> main",
            id="shared-imports-main",
        ),
        pytest.param(
            "no-cycles",
            {
                "recipes/loop_one.py": "import recipes.loop_two\n",
                "recipes/loop_two.py": "import recipes.loop_one\n",
            },
            "No cycles are allowed in recipes.",
            id="two-modules-import-each-other",
        ),
    ],
)
def test_a_contract_reports_the_import_that_breaks_it(
    project_copy: Path, contract: str, modules: dict[str, str], reported: str
) -> None:
    for path, source in modules.items():
        (project_copy / path).write_text(source, encoding="utf-8")
    result = lint_imports(project_copy, contract)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert reported in result.stdout


def test_ruff_refuses_the_second_http_client_library(tmp_path: Path) -> None:
    module = tmp_path / "client.py"
    module.write_text("import httpx\nfrom httpx import AsyncClient\n", encoding="utf-8")
    ruff = str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run(  # noqa: S603 - the project's own ruff, fixed arguments
        [ruff, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(module)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.count("TID251 `httpx` is banned") == 2
