"""Compare two JSON schemas as what clients send (input) or what they read (output).

Input must accept at least what it accepted: narrowing it breaks clients. Output must promise at
least what it promised: widening it breaks clients (a new type such as null, a new enum value, a
field that may now be absent, a looser bound or format).
"""

from __future__ import annotations

from enum import Enum

from tools.openapi_compat.changes import Changes, Schema, resolve

UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
# Any change to these changes which values are valid, in one direction or the other.
EXACT_CONSTRAINTS = ("format", "pattern", "multipleOf")
ANY = "any"  # a schema without a type accepts every value


class Direction(Enum):
    INPUT = "input"
    OUTPUT = "output"


class SchemaComparer:
    def __init__(self, old_document: Schema, new_document: Schema, changes: Changes) -> None:
        self.documents = (old_document, new_document)
        self.changes = changes
        # Alternatives are built once per schema, so a schema keeps one identity and a cycle
        # (a schema that contains itself) is seen as the same pair of schemas coming round again.
        # Each entry keeps its schema alive, so no other schema can take over its id.
        self.expanded: dict[tuple[int, int], tuple[Schema, list[Schema]]] = {}
        self.open_pairs: set[tuple[int, int, Direction]] = set()

    def compare(self, where: str, old: Schema, new: Schema, direction: Direction) -> None:
        old_variants = self.alternatives(0, old)
        new_variants = self.alternatives(1, new)
        pairs: list[tuple[Schema | None, Schema | None]]
        if direction is Direction.INPUT:
            # Every kind of value clients could send must still be accepted.
            pairs = [(o, self.counterpart(o, new_variants)) for o in old_variants]
        else:
            # Every kind of value clients may now receive must have been promised.
            pairs = [(self.counterpart(n, old_variants), n) for n in new_variants]
        if any(o is None or n is None for o, n in pairs):
            self.changes.breaking(
                where,
                f"type changed from {type_names(old_variants)} to {type_names(new_variants)}",
            )
        for old_variant, new_variant in pairs:
            if old_variant is not None and new_variant is not None:
                self.compare_alternative(where, old_variant, new_variant, direction)

    def alternatives(self, side: int, schema: Schema) -> list[Schema]:
        """The schema as a list of plain alternatives, each of one type (or none): `$ref`s
        resolved in the schema's own document, `allOf` merged, `anyOf`/`oneOf`, type lists and
        `nullable` split apart."""
        key = (side, id(schema))
        if key not in self.expanded:
            self.expanded[key] = (schema, self.expand(side, schema, depth=0))
        return self.expanded[key][1]

    def expand(self, side: int, schema: Schema, depth: int) -> list[Schema]:
        document = self.documents[side]
        schema = resolve(document, schema)
        if depth > 16:  # a union that contains itself; it adds no new alternatives
            return [schema]
        if "allOf" in schema:
            merged = {key: value for key, value in schema.items() if key != "allOf"}
            for part in schema["allOf"]:
                merged = merge(merged, resolve(document, part))
            schema = merged
        options = schema.get("anyOf", []) + schema.get("oneOf", [])
        if options:
            shared = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return [
                {**shared, **alternative}
                for option in options
                for alternative in self.expand(side, option, depth + 1)
            ]
        found = schema.get("type")
        alternatives = (
            [{**schema, "type": name} for name in found] if isinstance(found, list) else [schema]
        )
        if schema.get("nullable") is True:
            alternatives.append({"type": "null"})
        return alternatives

    def counterpart(self, schema: Schema, candidates: list[Schema]) -> Schema | None:
        """The candidate that carries `schema`'s values: the same type first, then a wider one."""
        wanted = type_of(schema)
        for candidate in candidates:
            if type_of(candidate) == wanted:
                return candidate
        for candidate in candidates:
            if type_of(candidate) == ANY or (wanted, type_of(candidate)) == ("integer", "number"):
                return candidate
        return None

    def compare_alternative(
        self, where: str, old: Schema, new: Schema, direction: Direction
    ) -> None:
        pair = (id(old), id(new), direction)
        if pair in self.open_pairs:
            return
        self.open_pairs.add(pair)
        try:
            if direction is Direction.INPUT:
                self.compare_input_limits(where, old, new)
            else:
                self.compare_output_limits(where, old, new)
            self.compare_enums(where, old, new, direction)
            self.compare_properties(where, old, new, direction)
            if "items" in old or "items" in new:
                self.compare(f"{where}[]", old.get("items", {}), new.get("items", {}), direction)
        finally:
            self.open_pairs.discard(pair)

    def compare_input_limits(self, where: str, old: Schema, new: Schema) -> None:
        """A limit added or tightened refuses values clients could send."""
        note = self.changes.breaking
        for bound in UPPER_BOUNDS:
            if number(new, bound) and not (number(old, bound) and new[bound] >= old[bound]):
                note(where, f"{bound} lowered to {new[bound]}")
        for bound in LOWER_BOUNDS:
            if number(new, bound) and not (number(old, bound) and new[bound] <= old[bound]):
                note(where, f"{bound} raised to {new[bound]}")
        for key in EXACT_CONSTRAINTS:
            if key in new and new[key] != old.get(key):
                note(where, f"{key} {'changed' if key in old else 'added'}: {new[key]}")
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            note(where, "items must now be unique")
        if "default" in old and "default" in new and old["default"] != new["default"]:
            # Clients that leave the value out get something else.
            note(where, f"default changed from {old['default']} to {new['default']}")

    def compare_output_limits(self, where: str, old: Schema, new: Schema) -> None:
        """A limit dropped or loosened lets through values clients were told they never get."""
        note = self.changes.breaking
        for bound in UPPER_BOUNDS:
            if number(old, bound) and not (number(new, bound) and new[bound] <= old[bound]):
                note(
                    where, f"{bound} raised to {new[bound]}" if bound in new else f"{bound} removed"
                )
        for bound in LOWER_BOUNDS:
            if number(old, bound) and not (number(new, bound) and new[bound] >= old[bound]):
                note(
                    where,
                    f"{bound} lowered to {new[bound]}" if bound in new else f"{bound} removed",
                )
        for key in EXACT_CONSTRAINTS:
            if key in old and new.get(key) != old[key]:
                note(where, f"{key} changed: {new[key]}" if key in new else f"{key} removed")
        if old.get("uniqueItems") is True and new.get("uniqueItems") is not True:
            note(where, "items may now repeat")

    def compare_enums(self, where: str, old: Schema, new: Schema, direction: Direction) -> None:
        old_values, new_values = allowed_values(old), allowed_values(new)
        if direction is Direction.INPUT and new_values is not None:
            if old_values is None:
                self.changes.breaking(where, f"values now limited to {sorted(new_values)}")
            elif old_values - new_values:
                self.changes.breaking(
                    where, f"enum values removed: {sorted(old_values - new_values)}"
                )
        if direction is Direction.OUTPUT and old_values is not None:
            # Strict clients (generated enums among them) reject a value they were not promised.
            if new_values is None:
                self.changes.breaking(where, "values no longer limited to an enum")
            elif new_values - old_values:
                self.changes.breaking(
                    where, f"enum values added: {sorted(new_values - old_values)}"
                )

    def compare_properties(
        self, where: str, old: Schema, new: Schema, direction: Direction
    ) -> None:
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        if direction is Direction.INPUT:
            for name in sorted(new_required - old_required):
                self.changes.breaking(where, f"field {name} is now required")
            if (
                new.get("additionalProperties") is False
                and old.get("additionalProperties") is not False
            ):
                self.changes.breaking(where, "unknown fields are now refused")
        for name, old_field in old_fields.items():
            if name not in new_fields:
                # A request field that is gone is ignored: what clients send no longer acts.
                kind = "request" if direction is Direction.INPUT else "response"
                self.changes.breaking(where, f"{kind} field {name} removed")
                continue
            if direction is Direction.OUTPUT and name in old_required - new_required:
                self.changes.breaking(where, f"response field {name} is now optional")
            self.compare(f"{where}.{name}", old_field, new_fields[name], direction)


def type_of(schema: Schema) -> str:
    if "type" in schema:
        return str(schema["type"])
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return ANY


def type_names(alternatives: list[Schema]) -> list[str]:
    return sorted({type_of(alternative) for alternative in alternatives})


def number(schema: Schema, key: str) -> bool:
    # OpenAPI 3.0 spells exclusive bounds as booleans beside the bound itself.
    value = schema.get(key)
    return isinstance(value, int | float) and not isinstance(value, bool)


def allowed_values(schema: Schema) -> set[str] | None:
    if "const" in schema:
        return {str(schema["const"])}
    if "enum" in schema:
        return {str(value) for value in schema["enum"]}
    return None


def merge(base: Schema, part: Schema) -> Schema:
    """`allOf`: a value must satisfy every part, so fields and required names add up."""
    merged = {**part, **base}
    if "properties" in base or "properties" in part:
        merged["properties"] = {**part.get("properties", {}), **base.get("properties", {})}
    if "required" in base or "required" in part:
        merged["required"] = sorted(set(base.get("required", [])) | set(part.get("required", [])))
    return merged
