"""Apps depend in one direction: school ← companies ← courses ← internships, and
billing (the workshop's sales) on courses, beside internships: neither knows the other;
assessments on internships (a CCF situation in PFMP goes to the tutor)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Each app, and the apps below it, which it may import.
BELOW: dict[str, set[str]] = {
    "school": set(),
    "companies": {"school"},
    "courses": {"school", "companies"},
    "internships": {"school", "companies", "courses"},
    "billing": {"school", "companies", "courses"},
    "assessments": {"school", "companies", "courses", "internships"},
}
LAYERS = list(BELOW)


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(LAYERS)


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_never_imports_an_app_built_on_it(app: str) -> None:
    higher = set(LAYERS) - BELOW[app] - {app}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_apps(path) & higher)
        for path in (ROOT / app).rglob("*.py")
        if _imported_apps(path) & higher
    }
    assert offenders == {}


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The project's modules that ``path`` imports, at its top or inside a function
    (a deferred import hides a cycle, it does not end it); type-checking imports aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_of(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_of(path)
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for statement in node.body
        for child in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found & modules


def test_no_module_of_the_apps_imports_itself_through_another() -> None:
    paths = {
        _module_of(path): path
        for app in LAYERS
        for path in (ROOT / app).rglob("*.py")
        # An app's ready() imports its modules to fill the registries; none imports it.
        if "migrations" not in path.parts and path.name != "apps.py"
    }
    graph = {module: _imports(path, set(paths)) - {module} for module, path in paths.items()}
    # A package's __init__ is imported with each of its modules: not a dependency of note.
    graph = {module: {m for m in targets if m not in LAYERS} for module, targets in graph.items()}

    def reaches(start: str, goal: str) -> list[str] | None:
        seen: set[str] = set()
        stack = [(start, [start])]
        while stack:
            module, trail = stack.pop()
            for target in graph[module]:
                if target == goal:
                    return [*trail, goal]
                if target not in seen:
                    seen.add(target)
                    stack.append((target, [*trail, target]))
        return None

    cycles = {" → ".join(trail) for module in graph if (trail := reaches(module, module))}
    assert cycles == set()
