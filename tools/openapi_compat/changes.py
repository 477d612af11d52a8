"""A difference between two OpenAPI documents, and where the documents point."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]


@dataclass(frozen=True)
class Change:
    breaking: bool
    where: str
    what: str

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'ok'}: {self.where}: {self.what}"


class Changes(list[Change]):
    """The changes found so far, each once (the alternatives of one field can find the same)."""

    def breaking(self, where: str, what: str) -> None:
        self.add(Change(True, where, what))

    def compatible(self, where: str, what: str) -> None:
        self.add(Change(False, where, what))

    def add(self, change: Change) -> None:
        if change not in self:
            self.append(change)


def resolve(document: Schema, value: Schema) -> Schema:
    """Follow `$ref`s (local JSON pointers such as `#/components/schemas/Recipe`) inside
    `document`, the document `value` came from; a reference that goes nowhere is `{}`."""
    followed = 0
    while isinstance(value, dict) and "$ref" in value and followed < 32:
        target: Any = document
        for part in str(value["$ref"]).removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part, {}) if isinstance(target, dict) else {}
        value = target
        followed += 1
    return value if isinstance(value, dict) else {}
