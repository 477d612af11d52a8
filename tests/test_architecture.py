"""The import rules of README's "Layout" section, checked on every run.

- `shared` imports no feature; nothing imports `main`.
- A feature reaches another only along the allowed arrows, and only through that feature's
  `service`, `dependencies`, `models` or `schemas`, never its router or anything else.
- The one arrow back, `users/router.py -> auth/dependencies.py`, is allowed explicitly.
- No import cycles between Larder's modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ("recipes", "users", "auth", "reddit")
PUBLIC_MODULES = ("service", "dependencies", "models", "schemas")
ALLOWED_ARROWS = {
    "auth": {"users"},
    "recipes": {"auth", "users"},
    "reddit": {"auth", "users"},
    "users": set(),
}
ARROWS_BACK = {("users.router", "auth.dependencies")}
PACKAGES = (*FEATURES, "shared", "migrations")
TOP_LEVEL_MODULES = ("main", "prestart")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    for name in TOP_LEVEL_MODULES:
        if (root / f"{name}.py").exists():
            modules[name] = root / f"{name}.py"
    return modules


def imports_of(source: str, module: str, known: Iterable[str]) -> set[str]:
    """Larder modules that `source` (the text of `module`) imports, wherever the import sits."""
    known_set = set(known)
    package = (
        module
        if module in known_set and _is_package(module, known_set)
        else module.rsplit(".", 1)[0]
    )
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known_set else base)
    return {name for name in found if name in known_set or name.split(".")[0] in PACKAGES}


def _is_package(module: str, known: set[str]) -> bool:
    return any(other.startswith(module + ".") for other in known)


def violations(graph: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    for module, targets in sorted(graph.items()):
        source_top = module.split(".")[0]
        for target in sorted(targets):
            target_top = target.split(".")[0]
            if target_top == "main":
                problems.append(f"{module} imports main")
            if source_top == "shared" and target_top in FEATURES:
                problems.append(f"shared module {module} imports feature module {target}")
            if source_top in FEATURES and target_top in FEATURES and source_top != target_top:
                if (module, target) in ARROWS_BACK:
                    continue
                if target_top not in ALLOWED_ARROWS[source_top]:
                    problems.append(
                        f"{module} -> {target}: {source_top} may not depend on {target_top}"
                    )
                elif target.count(".") != 1 or target.split(".")[1] not in PUBLIC_MODULES:
                    problems.append(
                        f"{module} -> {target}: reach {target_top} only through "
                        f"{', '.join(PUBLIC_MODULES)}"
                    )
    return problems


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = imports_of(path.read_text(encoding="utf-8"), module, modules)
        # A package's __init__ importing its own children is not a dependency between features.
        graph[module] = {target for target in targets if target != module and target in modules}
    return graph


def test_larder_follows_its_import_rules() -> None:
    assert violations(import_graph()) == []


def test_larder_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_graph_sees_the_known_arrows() -> None:
    graph = import_graph()
    assert "auth.dependencies" in graph["recipes.dependencies"]
    assert "users.service" in graph["auth.service"]
    assert "auth.dependencies" in graph["users.router"]


@pytest.mark.parametrize(
    ("module", "source", "complaint"),
    [
        ("shared.crud", "from recipes.models import Recipe", "imports feature module"),
        ("users.service", "from auth.service import login", "users may not depend on auth"),
        ("recipes.router", "from users.router import router", "reach users only through"),
        ("recipes.service", "import main", "imports main"),
        ("reddit.service", "from recipes import service", "reddit may not depend on recipes"),
    ],
)
def test_the_rules_catch_violations(module: str, source: str, complaint: str) -> None:
    known = {
        "shared.crud",
        "users.service",
        "users.router",
        "auth.service",
        "recipes.models",
        "recipes.router",
        "recipes.service",
        "reddit.service",
        "main",
    }
    graph = {module: imports_of(source, module, known)}
    problems = violations(graph)
    assert len(problems) == 1
    assert complaint in problems[0]


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
