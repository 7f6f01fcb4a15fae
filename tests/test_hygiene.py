"""Notebook hygiene: committed without outputs, normalised, valid, and every relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from losslab import notebooks
from tests.support import COURSE, REPO, SOLUTIONS

ALL = sorted(p for p in notebooks.find([SOLUTIONS, COURSE, REPO / "tests"]) if "artifacts" not in p.parts)
LINK = re.compile(r"\]\(((?!https?:|#|mailto:)[^)\s]+?\.ipynb)(#[^)]*)?\)")


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_committed_without_outputs_and_normalised(path: Path) -> None:
    nb = notebooks.read(path)
    assert not notebooks.has_outputs(nb), f"{_id(path)} has outputs or execution counts: run `make format`"
    nbformat.validate(nb)
    expected = nbformat.writes(notebooks.normalize(notebooks.read(path), path_hint=path.name)) + "\n"
    assert path.read_text(encoding="utf-8") == expected, f"{_id(path)} is not normalised: run `make format`"


@pytest.mark.parametrize("path", [p for p in ALL if COURSE in p.parents], ids=_id)
def test_links_between_notebooks_resolve(path: Path) -> None:
    for cell in notebooks.read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for target, _anchor in LINK.findall(cell.source):
            assert (path.parent / target).resolve().exists(), f"{_id(path)} links to missing {target}"


def test_format_detects_outputs(tmp_path: Path) -> None:
    nb = notebooks.notebook([notebooks.code("print(1)")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[0].execution_count = 3
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, str(path))
    assert notebooks.has_outputs(notebooks.read(path))
    assert notebooks.format_paths([tmp_path]) == [path]
    assert not notebooks.has_outputs(notebooks.read(path))
    assert notebooks.format_paths([tmp_path]) == []  # idempotent
