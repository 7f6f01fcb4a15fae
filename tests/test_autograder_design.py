"""The grader's map and layout (docs/design.md's grader pipeline): every module is on the map and has its tests,
no module reaches into another's private names or re-exports them, and tests import a name from the module
that defines it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support import REPO

GRADER = REPO / "autograder"
MODULES = sorted(p.stem for p in GRADER.glob("*.py") if p.name != "__init__.py")
# modules whose tests are in a file named otherwise (docs/design.md says which)
TEST_FILES = {
    "cluster": "test_dask.py",
    "sandbox": "test_sandbox.py",
    "release": "test_release.py",
    "coordinator": "test_autograder.py",
    "nbgrader_config": "test_autograder_config.py",
    "late": "test_autograder_lms_export.py",
}


def _pipeline_section() -> str:
    text = (REPO / "docs" / "design.md").read_text(encoding="utf-8")
    match = re.search(r"^## The grader's pipeline\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert match, "docs/design.md has no '## The grader's pipeline' section"
    return match.group(1)


@pytest.mark.parametrize("module", MODULES)
def test_every_grader_module_is_on_the_map(module: str) -> None:
    section = _pipeline_section()
    assert f"`{module}.py`" in section, f"docs/design.md's grader pipeline does not list autograder/{module}.py"
    assert f"{module}.py" in section.split("Every module of")[0], f"{module}.py is not in the pipeline's diagram"


@pytest.mark.parametrize("module", MODULES)
def test_every_grader_module_has_its_test_file(module: str) -> None:
    name = TEST_FILES.get(module, f"test_autograder_{module}.py")
    path = REPO / "tests" / name
    assert path.exists(), f"autograder/{module}.py has no tests/{name}"
    pattern = rf"autograder[./]{module}\b|from autograder import [^\n]*\b{module}\b"
    assert re.search(pattern, path.read_text(encoding="utf-8")), f"tests/{name} does not import autograder.{module}"


def _defined(module: str) -> set[str]:
    """The names a grader module defines at its top level (not those it imports)."""
    tree = ast.parse((GRADER / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of every `from autograder.<module> import <name>` in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.module.split(".", 1)[1], alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("autograder.")
        for alias in node.names
    ]


def test_no_grader_module_imports_another_ones_private_names() -> None:
    found = [
        f"{path.name}:{line} imports {name} from autograder.{module}"
        for path in sorted(GRADER.glob("*.py"))
        for line, module, name in _imports(path)
        if name.startswith("_")
    ]
    assert not found, found


def test_no_grader_module_reexports() -> None:
    found = [
        f"{path.name}:{number}"
        for path in sorted(GRADER.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"noqa: F401.*re-export", line)
    ]
    assert not found, f"re-exports (import the name from where it is defined instead): {found}"


def test_grader_and_tests_import_names_from_the_module_that_defines_them() -> None:
    files = sorted(GRADER.glob("*.py")) + sorted((REPO / "tests").glob("test_*.py"))
    found = [
        f"{path.relative_to(REPO)}:{line}: {name} is not defined in autograder.{module}"
        for path in files
        for line, module, name in _imports(path)
        if (GRADER / f"{module}.py").exists() and name not in _defined(module)
    ]
    assert not found, found


def test_the_checker_sees_a_reexport(tmp_path: Path) -> None:
    """grade.py once imported _drop_links from unit.py so that tests could reach it through grade."""
    assert "_drop_links" in _defined("unit") and "_drop_links" not in _defined("grade")
    probe = tmp_path / "test_probe.py"
    probe.write_text("from autograder.coordinator import read_scores\n")
    assert _imports(probe) == [(1, "coordinator", "read_scores")] and "read_scores" not in _defined("coordinator")
