"""nbgrader preprocessors of the course (autograder/preprocessors.py)."""

from __future__ import annotations

from nbformat.v4 import new_code_cell, new_output

from autograder.preprocessors import TestCellStderr


def _test_cell(*outputs: object, solution: bool = False) -> object:
    meta = {"nbgrader": {"grade": True, "grade_id": "t", "points": 1, "solution": solution}}
    cell = new_code_cell("assert True", metadata=meta)
    cell.outputs = list(outputs)
    return cell


def test_stderr_of_a_passing_test_cell_becomes_stdout() -> None:
    cell = _test_cell(new_output("stream", name="stderr", text="W tensorflow: a log line\n"))
    cell, _ = TestCellStderr().preprocess_cell(cell, {}, 0)
    assert [o.name for o in cell.outputs] == ["stdout"]


def test_a_failing_test_cell_and_answer_cells_are_left_alone() -> None:
    failing = _test_cell(
        new_output("stream", name="stderr", text="W: x\n"),
        new_output("error", ename="AssertionError", evalue="no", traceback=[]),
    )
    failing, _ = TestCellStderr().preprocess_cell(failing, {}, 0)
    assert failing.outputs[0].name == "stderr"
    answer = _test_cell(new_output("stream", name="stderr", text="W: x\n"), solution=True)
    answer, _ = TestCellStderr().preprocess_cell(answer, {}, 0)
    assert answer.outputs[0].name == "stderr"
