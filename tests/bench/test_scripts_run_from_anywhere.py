"""Every bench script runs as its docstring says, `python bench/<name>.py`: one that imports
bench/ or tests/ puts the repository on the path first (six of them failed with
ModuleNotFoundError before, run that way)."""

import ast
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _first_line_importing_the_repo(tree: ast.Module) -> int | None:
    for node in tree.body:
        names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                 else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        if any(n.split(".")[0] in ("bench", "tests") for n in names):
            return node.lineno
    return None


def _path_insert_line(tree: ast.Module) -> int | None:
    for node in tree.body:
        if isinstance(node, ast.Expr) and "sys.path.insert" in ast.unparse(node):
            return node.lineno
    return None


def _importing_the_repo() -> list[tuple[Path, ast.Module]]:
    parsed = [(p, ast.parse(p.read_text())) for p in sorted(BENCH.glob("*.py")) if p.name != "__init__.py"]
    return [(p, tree) for p, tree in parsed if _first_line_importing_the_repo(tree) is not None]


def test_the_scripts_that_import_the_repo_are_found():
    assert {"compare.py", "brief_accuracy.py", "hostile.py"} <= {p.name for p, _ in _importing_the_repo()}


@pytest.mark.parametrize("script, tree", _importing_the_repo(), ids=lambda v: getattr(v, "name", ""))
def test_a_script_that_imports_the_repo_puts_it_on_the_path_first(script, tree):
    first = _first_line_importing_the_repo(tree)
    inserted = _path_insert_line(tree)
    assert inserted is not None and inserted < first, (
        f"{script.name} imports bench/ or tests/ at line {first} without sys.path.insert before it")
