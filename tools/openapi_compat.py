"""Classify the differences between two OpenAPI documents as breaking or not.

Breaking, for clients of /api/v1: a removed operation, a removed response field or enum value,
a newly required parameter or request field, a narrowed type (another type, a lower maximum,
a higher minimum, a shorter maximum length). Additions are not breaking.

    python -m tools.openapi_compat OLD.json NEW.json     # compare two files
    python -m tools.openapi_compat --history openapi.json  # every committed change of a file

Exit status 1 when a breaking change is found.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Change:
    breaking: bool
    where: str
    what: str

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'ok'}: {self.where}: {self.what}"


class Comparer:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def note(self, breaking: bool, where: str, what: str) -> None:
        self.changes.append(Change(breaking, where, what))

    def resolve(self, document: Schema, schema: Schema) -> Schema:
        seen = 0
        while "$ref" in schema and seen < 20:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = document.get("components", {}).get("schemas", {}).get(name, {})
            seen += 1
        return schema

    def compare(self) -> list[Change]:
        old_paths, new_paths = self.old.get("paths", {}), self.new.get("paths", {})
        for path, old_item in old_paths.items():
            if not path.startswith(API_PREFIX):
                continue
            for method in METHODS:
                if method not in old_item:
                    continue
                where = f"{method.upper()} {path}"
                new_operation = new_paths.get(path, {}).get(method)
                if new_operation is None:
                    self.note(True, where, "operation removed")
                    continue
                self.compare_operation(where, old_item[method], new_operation)
        for path, new_item in new_paths.items():
            for method in METHODS:
                if method in new_item and method not in old_paths.get(path, {}):
                    self.note(False, f"{method.upper()} {path}", "operation added")
        return self.changes

    def compare_operation(self, where: str, old: Schema, new: Schema) -> None:
        if old.get("operationId") != new.get("operationId"):
            # Generated clients name their methods after it.
            self.note(True, where, f"operationId changed to {new.get('operationId')}")
        old_params = {(p["in"], p["name"]): p for p in old.get("parameters", [])}
        for param in new.get("parameters", []):
            key = (param["in"], param["name"])
            previous = old_params.get(key)
            if param.get("required") and (previous is None or not previous.get("required")):
                self.note(True, where, f"parameter {param['name']} is now required")
            if previous is not None:
                self.compare_input(
                    f"{where} parameter {param['name']}",
                    previous.get("schema", {}),
                    param.get("schema", {}),
                )
        old_body = self.body_schema(self.old, old)
        new_body = self.body_schema(self.new, new)
        if old_body is not None and new_body is not None:
            self.compare_input(f"{where} request body", old_body, new_body)
        elif (
            old_body is None and new_body is not None and new.get("requestBody", {}).get("required")
        ):
            self.note(True, where, "a request body is now required")
        for status, old_response in old.get("responses", {}).items():
            new_response = new.get("responses", {}).get(status)
            if new_response is None:
                continue  # an answer clients no longer get cannot break them
            self.compare_output(
                f"{where} response {status}",
                self.content_schema(self.old, old_response),
                self.content_schema(self.new, new_response),
            )

    def body_schema(self, document: Schema, operation: Schema) -> Schema | None:
        body = operation.get("requestBody")
        return None if body is None else self.content_schema(document, body)

    def content_schema(self, document: Schema, holder: Schema) -> Schema:
        for media in holder.get("content", {}).values():
            return self.resolve(document, media.get("schema", {}))
        return {}

    def compare_input(self, where: str, old: Schema, new: Schema, depth: int = 0) -> None:
        """What clients send: it must accept at least what it accepted."""
        old, new = self.resolve(self.old, old), self.resolve(self.new, new)
        if depth > 8:
            return
        self.compare_types(where, old, new, narrowing_breaks=True)
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(new_required - old_required):
            self.note(True, where, f"field {name} is now required")
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, old_prop in old_props.items():
            if name in new_props:
                self.compare_input(f"{where}.{name}", old_prop, new_props[name], depth + 1)
        old_enum, new_enum = set(map(str, old.get("enum", []))), set(map(str, new.get("enum", [])))
        if old_enum and new_enum and old_enum - new_enum:
            self.note(True, where, f"enum values removed: {sorted(old_enum - new_enum)}")

    def compare_output(self, where: str, old: Schema, new: Schema, depth: int = 0) -> None:
        """What clients receive: every field they may read must still be there."""
        old, new = self.resolve(self.old, old), self.resolve(self.new, new)
        if depth > 8:
            return
        self.compare_types(where, old, new, narrowing_breaks=False)
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                self.note(True, where, f"response field {name} removed")
            else:
                self.compare_output(f"{where}.{name}", old_prop, new_props[name], depth + 1)
        if "items" in old and "items" in new:
            self.compare_output(f"{where}[]", old["items"], new["items"], depth + 1)
        old_enum, new_enum = set(map(str, old.get("enum", []))), set(map(str, new.get("enum", [])))
        if old_enum and new_enum and old_enum - new_enum:
            self.note(True, where, f"enum values removed: {sorted(old_enum - new_enum)}")

    def compare_types(
        self, where: str, old: Schema, new: Schema, *, narrowing_breaks: bool
    ) -> None:
        old_types, new_types = self.types(old), self.types(new)
        if old_types and new_types and old_types != new_types:
            # Clients send what was accepted (a lost type breaks them) and read what was
            # promised (a new type, such as null, breaks them).
            broken = old_types - new_types if narrowing_breaks else new_types - old_types
            if broken:
                self.note(
                    True, where, f"type changed from {sorted(old_types)} to {sorted(new_types)}"
                )
        if not narrowing_breaks:
            return
        for bound in ("maximum", "maxLength", "maxItems"):
            if bound in new and (bound not in old or new[bound] < old[bound]):
                self.note(True, where, f"{bound} lowered to {new[bound]}")
        for bound in ("minimum", "minLength", "minItems"):
            if bound in new and (bound not in old or new[bound] > old[bound]):
                self.note(True, where, f"{bound} raised to {new[bound]}")

    def types(self, schema: Schema) -> set[str]:
        found: set[str] = set()
        if "type" in schema:
            found.update(schema["type"] if isinstance(schema["type"], list) else [schema["type"]])
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            resolved = self.resolve(self.old, option) if "$ref" in option else option
            found.update(self.types(resolved) or {"object"})
        return found


def compare(old: Schema, new: Schema) -> list[Change]:
    return Comparer(old, new).compare()


def committed_versions(path: str) -> list[Schema]:
    """Every version of `path` committed on this branch (first parents: merged branches count
    as one change), oldest first."""
    commits = subprocess.run(  # noqa: S603
        ["git", "log", "--first-parent", "--format=%H", "--reverse", "--", path],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    versions = []
    for commit in commits:
        shown = subprocess.run(  # noqa: S603
            ["git", "show", f"{commit}:{path}"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode == 0:
            versions.append(json.loads(shown.stdout))
    return versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--history", metavar="FILE", help="check every committed change of FILE")
    parser.add_argument("documents", nargs="*", metavar="OLD NEW")
    args = parser.parse_args(argv)
    if args.history:
        versions = committed_versions(args.history)
        with open(args.history, encoding="utf-8") as handle:
            versions.append(json.load(handle))
        pairs = list(itertools.pairwise(versions))
    elif len(args.documents) == 2:
        loaded = []
        for name in args.documents:
            with open(name, encoding="utf-8") as handle:
                loaded.append(json.load(handle))
        pairs = [(loaded[0], loaded[1])]
    else:
        parser.error("give OLD and NEW, or --history FILE")
    breaking = [change for old, new in pairs for change in compare(old, new) if change.breaking]
    for change in breaking:
        print(change)
    print(f"{len(pairs)} change(s) checked, {len(breaking)} breaking")
    return 1 if breaking else 0


if __name__ == "__main__":
    sys.exit(main())
