"""The committed OpenAPI snapshot is the document Larder serves, and v1 only grows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "openapi" / "v1.json"


def test_the_served_document_matches_the_snapshot(client: TestClient) -> None:
    served = client.get("/api/v1/openapi.json").json()
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert served == committed, "the API changed: run `make openapi` and review the diff"


def test_every_operation_has_a_stable_id_and_a_tag(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            tag = operation["tags"][0]
            assert operation["operationId"].startswith(f"{tag}-"), (method, path)
            ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_the_snapshot_history_has_no_breaking_change() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.openapi_compat", "--history", "openapi/v1.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
