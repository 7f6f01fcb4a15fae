"""losslab.notebooks: builders produce valid nbgrader cells; normalization is stable; cells found by id."""

from __future__ import annotations

import nbformat
import pytest

from losslab import notebooks


def test_builders_make_valid_nbgrader_cells() -> None:
    nb = notebooks.notebook(
        [
            notebooks.markdown("# Title"),
            notebooks.solution("answer", "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION"),
            notebooks.tests("test-answer", 2, "assert x == 2"),
            notebooks.readonly("setup", "import losslab", kind="code"),
        ]
    )
    nbformat.validate(nb)
    assert notebooks.graded_cells(nb) == {"test-answer": 2.0}
    meta = notebooks.cell_by_grade_id(nb, "answer").metadata.nbgrader
    assert meta["solution"] and not meta["grade"] and not meta["locked"] and meta["schema_version"] == 3
    assert notebooks.cell_by_grade_id(nb, "setup").metadata.nbgrader["locked"]


def test_solution_cells_need_markers() -> None:
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        notebooks.solution("answer", "x = 2")


def test_unknown_grade_id_lists_the_known_ones() -> None:
    nb = notebooks.notebook([notebooks.tests("t1", 1, "pass")])
    with pytest.raises(KeyError, match="t1"):
        notebooks.cell_by_grade_id(nb, "nope")


def test_normalize_is_idempotent_and_keeps_ids_and_tags() -> None:
    nb = notebooks.notebook([notebooks.code("print(1)")])
    nb.cells[0].metadata["tags"] = ["shows-warning"]
    nb.cells[0].metadata["collapsed"] = True
    nb.metadata["widgets"] = {"state": {}}
    once = nbformat.writes(notebooks.normalize(nb))
    twice = nbformat.writes(notebooks.normalize(nbformat.reads(once, as_version=4)))
    assert once == twice
    cell = nbformat.reads(once, as_version=4).cells[0]
    assert cell.metadata == {"tags": ["shows-warning"]} and cell.id
    assert "widgets" not in nbformat.reads(once, as_version=4).metadata


def test_read_reports_broken_json(tmp_path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text("{ this is not json")
    with pytest.raises(ValueError, match="not valid notebook JSON"):
        notebooks.read(path)
