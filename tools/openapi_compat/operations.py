"""Compare the operations of two OpenAPI documents: what a client of /api/v1 calls and gets."""

from __future__ import annotations

from tools.openapi_compat.changes import Change, Changes, Schema, resolve
from tools.openapi_compat.schemas import Direction, SchemaComparer

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
API_PREFIX = "/api/v1"
Requirement = dict[str, set[str]]  # security scheme name -> scopes


def compare(old: Schema, new: Schema) -> list[Change]:
    return DocumentComparer(old, new).compare()


class DocumentComparer:
    def __init__(self, old: Schema, new: Schema) -> None:
        self.old, self.new = old, new
        self.changes = Changes()
        self.schemas = SchemaComparer(old, new, self.changes)

    def compare(self) -> list[Change]:
        old_paths, new_paths = self.old.get("paths", {}), self.new.get("paths", {})
        for path, old_item in old_paths.items():
            if not path.startswith(API_PREFIX):
                continue
            new_item = new_paths.get(path, {})
            for method in METHODS:
                if method not in old_item:
                    continue
                where = f"{method.upper()} {path}"
                if method not in new_item:
                    self.changes.breaking(where, "operation removed")
                    continue
                self.compare_operation(where, method, old_item, new_item)
        for path, new_item in new_paths.items():
            for method in METHODS:
                if method in new_item and method not in old_paths.get(path, {}):
                    self.changes.compatible(f"{method.upper()} {path}", "operation added")
        self.compare_security_schemes()
        return list(self.changes)

    def compare_operation(
        self, where: str, method: str, old_item: Schema, new_item: Schema
    ) -> None:
        old_operation, new_operation = old_item[method], new_item[method]
        if old_operation.get("operationId") != new_operation.get("operationId"):
            # Generated clients name their methods after it.
            self.changes.breaking(
                where, f"operationId changed to {new_operation.get('operationId')}"
            )
        self.compare_security(where, old_operation, new_operation)
        self.compare_parameters(
            where,
            parameters(self.old, old_item, old_operation),
            parameters(self.new, new_item, new_operation),
        )
        self.compare_request_body(where, old_operation, new_operation)
        self.compare_responses(where, old_operation, new_operation)

    def compare_security(self, where: str, old: Schema, new: Schema) -> None:
        """Every client that met one of the old requirements must meet one of the new."""
        old_options = requirements(self.old, old)
        new_options = requirements(self.new, new)
        for option in old_options:
            if not any(demands_no_more(new_option, option) for new_option in new_options):
                what = "authentication is now required" if not option else "security tightened"
                self.changes.breaking(
                    where, f"{what}: {describe(old_options)} became {describe(new_options)}"
                )
                return

    def compare_parameters(
        self, where: str, old: dict[tuple[str, str], Schema], new: dict[tuple[str, str], Schema]
    ) -> None:
        for (location, name), old_parameter in old.items():
            new_parameter = new.get((location, name))
            if new_parameter is None:
                moved = [place for place, other in new if other == name]
                what = f"moved from {location} to {moved[0]}" if moved else "removed"
                self.changes.breaking(where, f"parameter {name} {what}")
                continue
            self.schemas.compare(
                f"{where} parameter {name}",
                parameter_schema(old_parameter),
                parameter_schema(new_parameter),
                Direction.INPUT,
            )
        for key, new_parameter in new.items():
            was_required = old.get(key, {}).get("required", False)
            if new_parameter.get("required") and not was_required:
                self.changes.breaking(where, f"parameter {key[1]} is now required")

    def compare_request_body(
        self, where: str, old_operation: Schema, new_operation: Schema
    ) -> None:
        old = resolve(self.old, old_operation.get("requestBody", {}))
        new = resolve(self.new, new_operation.get("requestBody", {}))
        if new.get("required") and not old.get("required"):
            self.changes.breaking(where, "a request body is now required")
        if old and not new:
            self.changes.breaking(where, "request body removed")
            return
        for media, old_content in old.get("content", {}).items():
            new_content = new.get("content", {}).get(media)
            if new_content is None:
                self.changes.breaking(where, f"request content type {media} no longer accepted")
                continue
            self.schemas.compare(
                f"{where} request body",
                old_content.get("schema", {}),
                new_content.get("schema", {}),
                Direction.INPUT,
            )

    def compare_responses(self, where: str, old_operation: Schema, new_operation: Schema) -> None:
        old_responses = old_operation.get("responses", {})
        new_responses = new_operation.get("responses", {})
        # Clients branch on the success status: one that is gone or new is a different answer.
        # New error and redirect statuses are new situations, which v1 may add.
        old_success = {status for status in old_responses if status[:1] in "23"}
        new_success = {status for status in new_responses if status[:1] in "23"}
        removed = sorted(old_success - new_success)
        added = sorted(status for status in new_success - old_success if status.startswith("2"))
        if removed:
            now = f" (now {', '.join(added)})" if added else ""
            self.changes.breaking(where, f"success status {', '.join(removed)} removed{now}")
        elif added:
            self.changes.breaking(where, f"success status {', '.join(added)} added")
        for status, old_response in old_responses.items():
            if status in new_responses:  # a lost error answer cannot break a client
                self.compare_response(
                    f"{where} response {status}",
                    resolve(self.old, old_response),
                    resolve(self.new, new_responses[status]),
                )

    def compare_response(self, where: str, old: Schema, new: Schema) -> None:
        for media, old_content in old.get("content", {}).items():
            new_content = new.get("content", {}).get(media)
            if new_content is None:
                self.changes.breaking(where, f"response content type {media} removed")
                continue
            self.schemas.compare(
                where,
                old_content.get("schema", {}),
                new_content.get("schema", {}),
                Direction.OUTPUT,
            )
        new_headers = new.get("headers", {})
        for name, old_header in old.get("headers", {}).items():
            if name not in new_headers:
                self.changes.breaking(where, f"response header {name} removed")
                continue
            self.schemas.compare(
                f"{where} header {name}",
                parameter_schema(resolve(self.old, old_header)),
                parameter_schema(resolve(self.new, new_headers[name])),
                Direction.OUTPUT,
            )

    def compare_security_schemes(self) -> None:
        old_schemes = self.old.get("components", {}).get("securitySchemes", {})
        new_schemes = self.new.get("components", {}).get("securitySchemes", {})
        for name, old_scheme in old_schemes.items():
            where = f"security scheme {name}"
            new_scheme = resolve(self.new, new_schemes.get(name, {}))
            old_scheme = resolve(self.old, old_scheme)
            for key in ("type", "in", "name", "scheme", "openIdConnectUrl"):
                if old_scheme.get(key) != new_scheme.get(key):
                    self.changes.breaking(where, f"{key} changed to {new_scheme.get(key)}")
            new_flows = new_scheme.get("flows", {})
            for flow, old_flow in old_scheme.get("flows", {}).items():
                new_flow = new_flows.get(flow, {})
                for key in ("tokenUrl", "authorizationUrl", "refreshUrl"):
                    if old_flow.get(key) != new_flow.get(key):
                        self.changes.breaking(where, f"{flow} {key} changed to {new_flow.get(key)}")
                lost = set(old_flow.get("scopes", {})) - set(new_flow.get("scopes", {}))
                if lost:
                    self.changes.breaking(where, f"{flow} scopes removed: {sorted(lost)}")


def parameters(
    document: Schema, path_item: Schema, operation: Schema
) -> dict[tuple[str, str], Schema]:
    """The operation's parameters by location and name (the operation's own override the
    path's; header names are case-insensitive)."""
    found = {}
    for parameter in path_item.get("parameters", []) + operation.get("parameters", []):
        parameter = resolve(document, parameter)
        name = parameter.get("name", "")
        location = parameter.get("in", "")
        found[(location, name.lower() if location == "header" else name)] = parameter
    return found


def requirements(document: Schema, operation: Schema) -> list[Requirement]:
    """The alternatives a client may meet; an empty one means no credentials at all."""
    declared = operation.get("security", document.get("security"))
    if not declared:
        return [{}]
    return [{scheme: set(scopes) for scheme, scopes in option.items()} for option in declared]


def demands_no_more(new: Requirement, old: Requirement) -> bool:
    return all(scheme in old and scopes <= old[scheme] for scheme, scopes in new.items())


def describe(options: list[Requirement]) -> str:
    return " or ".join(
        " and ".join(f"{scheme} {sorted(scopes)}" for scheme, scopes in sorted(option.items()))
        or "none"
        for option in options
    )


def parameter_schema(parameter: Schema) -> Schema:
    if "schema" in parameter:
        schema: Schema = parameter["schema"]
        return schema
    for content in parameter.get("content", {}).values():
        media_schema: Schema = content.get("schema", {})
        return media_schema
    return {}
