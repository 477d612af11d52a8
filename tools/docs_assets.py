"""Refresh the Swagger UI and ReDoc files that /docs and /redoc load from Larder itself.

They come unchanged from their publishers' npm packages (`swagger-ui-dist`, `redoc`), the same
packages and major versions FastAPI's default pages load from a CDN, with their licence files.
`npm pack` fetches a package without installing anything; the files listed below are copied to
shared/static/vendor/, and VERSIONS.txt records what was taken, with npm's integrity hash.

    python -m tools.docs_assets     # or: make docs-assets; then review and commit the diff

Needs npm. To move to a new major version, change it below and check /docs and /redoc in a
browser (tests/browser/test_api_docs_in_a_browser.py does).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "shared" / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str  # an npm version range: the newest release within it is taken
    folder: str  # under VENDOR
    files: tuple[str, ...]  # paths inside the package
    # (file, text, replacement): the only changes made, each to text that must occur once.
    patches: tuple[tuple[str, str, str], ...] = ()


PACKAGES = (
    Package(
        "swagger-ui-dist",
        "5",
        "swagger-ui",
        (
            "swagger-ui-bundle.js",
            "swagger-ui-bundle.js.LICENSE.txt",
            "swagger-ui.css",
            "favicon-32x32.png",
            "LICENSE",
            "NOTICE",
        ),
    ),
    Package(
        "redoc",
        "2",
        "redoc",
        ("bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"),
        # ReDoc shows Redocly's logo from Redocly's CDN beside "API docs by Redocly"; the page
        # may load nothing from elsewhere, so the image is left out (an empty src fails, and
        # ReDoc then drops the image) and the credit stays as text.
        patches=(
            (
                "bundles/redoc.standalone.js",
                'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"',
                'src:""',
            ),
        ),
    ),
)


def pack(package: Package, into: Path) -> dict[str, str]:
    """`npm pack` the newest release of `package` within its range; npm's report of it."""
    command = ["npm", "pack", f"{package.name}@{package.version}", "--json", "--silent"]
    result = subprocess.run(  # noqa: S603 - a fixed command, no shell
        command, cwd=into, check=True, capture_output=True, text=True
    )
    (report,) = json.loads(result.stdout)
    return {key: str(report[key]) for key in ("filename", "version", "integrity")}


def refresh(package: Package, work: Path) -> str:
    report = pack(package, work)
    target = VENDOR / package.folder
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(work / report["filename"]) as archive:
        for name in package.files:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise SystemExit(f"{package.name}@{report['version']} has no file {name}")
            content = member.read()
            for patched, text, replacement in package.patches:
                if patched != name:
                    continue
                if content.count(text.encode()) != 1:
                    raise SystemExit(f"{package.name}@{report['version']}: {text!r} not found once")
                content = content.replace(text.encode(), replacement.encode())
            (target / Path(name).name).write_bytes(content)
    line = f"{package.name} {report['version']} {report['integrity']}"
    for patched, text, replacement in package.patches:
        line += f"\n  patched {Path(patched).name}: {text} -> {replacement}"
    return line


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="larder-docs-assets-") as work:
        lines = [refresh(package, Path(work)) for package in PACKAGES]
    (VENDOR / "VERSIONS.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
