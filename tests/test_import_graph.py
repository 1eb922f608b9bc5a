"""The product's import graph: no cycles, and each layer imports only what it may.

The graph is read from the source with `ast` (every import statement, also those inside
functions), so it needs no imports of the product itself and sees imports that run only on
some paths.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("briefml", "core", "db", "workspace", "webapp")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES
            for path in (ROOT / package).rglob("*.py")}


def _imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name the module imports (for `from a import b`: `a.b` and `a`)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module.split(".")
                package = package if is_package else package[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    """module → the product modules it imports (a package counts as its __init__)."""
    modules = _modules()
    return {module: {name for name in _imported_names(module, path)
                     if name in modules and name != module}
            for module, path in modules.items()}


def _external(module: str) -> set[str]:
    """The top-level packages a product module imports."""
    return {name.split(".")[0] for name in _imported_names(module, _modules()[module]) if name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_source():
    graph = _graph()
    assert "workspace.builds" in graph["workspace.build_runner"]
    assert "workspace.jobs" in graph["workspace.builds"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_product_has_no_import_cycle():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize("package, forbidden", [
    ("core", {"db", "workspace", "webapp", "briefml", "streamlit"}),
    ("db", {"core", "workspace", "webapp", "briefml", "streamlit"}),
    ("workspace", {"webapp", "briefml", "streamlit"}),
])
def test_each_layer_imports_only_what_it_may(package, forbidden):
    offenders = {module: sorted(_external(module) & forbidden) for module in _modules()
                 if module.split(".")[0] == package and _external(module) & forbidden}
    assert offenders == {}


def test_only_the_web_app_imports_streamlit():
    importers = {module.split(".")[0] for module in _modules() if "streamlit" in _external(module)}
    assert importers == {"webapp"}


def test_only_the_worker_cli_imports_the_worker():
    importers = {module for module, imports in _graph().items() if "workspace.worker" in imports}
    assert importers == {"briefml.cli"}


def _imports_inside_functions(path: Path) -> set[str]:
    found = set()
    for function in ast.walk(ast.parse(path.read_text())):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module:
                    found.add(node.module)
                elif isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
    return found


def test_workspace_modules_import_each_other_at_the_top():
    # a function-level import between workspace modules is how a cycle hides; there is none
    late = {module: sorted(name for name in _imports_inside_functions(path)
                           if name.split(".")[0] == "workspace")
            for module, path in _modules().items() if module.split(".")[0] == "workspace"}
    assert {module: names for module, names in late.items() if names} == {}
