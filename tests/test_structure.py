"""The project's shape (docs/design.md): every losslab module imports; no import cycle between the project's
modules; the library imports nothing from autograder/ or tests/ (test, bench and browser tooling live in
tests/tools/); the modules of the doctor that must not need a backend import no Keras; no source file over 700
lines in losslab/ or autograder/."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.support import REPO

ROOTS = ("losslab", "autograder", "tests/tools")
MAX_LINES = 700
# The doctor's parts that hold plain data or pure NumPy rules: a report can be read without a backend.
KERAS_FREE = ("causes", "report", "registry", "facts", "curves", "diagnosis")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    return {_module_name(p): p for root in ROOTS for p in sorted((REPO / root).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Project modules `path` imports, at module level or inside functions (not under TYPE_CHECKING)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in modules or name.split(".")[0] in {"autograder", "tests"}}


def _graph() -> dict[str, set[str]]:
    sources = _sources()
    modules = set(sources)
    return {name: _imports(path, modules) - {name} for name, path in sources.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                connect(nxt)
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
            connect(node)
    return found


def test_every_library_module_imports() -> None:
    for name in sorted(n for n in _sources() if n.split(".")[0] == "losslab" and n != "losslab.__main__"):
        importlib.import_module(name)


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_library_imports_no_grader_and_no_test_tooling() -> None:
    bad = {
        name: sorted(i for i in imports if i.split(".")[0] in {"autograder", "tests"})
        for name, imports in _graph().items()
        if name.split(".")[0] == "losslab"
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_doctors_report_and_rules_need_no_keras() -> None:
    for name in KERAS_FREE:
        tree = ast.parse((REPO / "losslab" / "doctor" / f"{name}.py").read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in imported if m.split(".")[0] in {"keras", "tensorflow", "jax", "torch"}}, name


@pytest.mark.parametrize("root", ["losslab", "autograder"])
def test_no_source_file_over_700_lines(root: str) -> None:
    long = {}
    for path in sorted((REPO / root).rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long[path.relative_to(REPO).as_posix()] = lines
    assert long == {}, f"split these modules (at most {MAX_LINES} lines each): {long}"
