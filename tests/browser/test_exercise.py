"""An exercise as a learner meets it: run it blank, Validate (fails), type the answers, Validate (passes).

The answers typed are the solution cells of solutions/00_warmup/, without nbgrader's markers. Validate is
nbgrader's toolbar button; it saves the notebook and runs it in a fresh kernel on the server (the served copy,
never the repository's notebook).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from losslab import notebooks
from tests.support import SOLUTIONS
from tests.tools.labserver import NotebookPage

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

EXERCISE = "00_warmup/warmup_exercise.ipynb"


def learner_answers(solution_path) -> dict[str, str]:
    """{grade_id: what a learner would type} from a solution notebook's answer cells."""
    answers = {}
    for cell in notebooks.read(solution_path).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [line for line in cell.source.splitlines() if not re.search(r"### (BEGIN|END) SOLUTION", line)]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def validate(notebook: NotebookPage, timeout_ms: int = 180_000) -> str:
    """Press Validate, wait for nbgrader's result dialog, close it; returns the dialog's text."""
    page = notebook.page
    notebook.panel.locator(".jp-Toolbar-item.validate-button, .validate-button").first.click()
    message = page.locator(".jp-Dialog #validation-message")
    message.wait_for(timeout=timeout_ms)
    text = re.sub(r"\s+", " ", message.inner_text())
    classes = message.get_attribute("class") or ""
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")
    return f"[{classes}] {text}"


def type_into_cell(notebook: NotebookPage, index: int, text: str) -> None:
    """Replace the source of the ``index``-th cell by typing, as a learner would (select all, then type)."""
    editor = notebook.cells().nth(index).locator(".cm-content")
    editor.click()
    notebook.page.keyboard.press("Control+A")
    notebook.page.keyboard.insert_text(text)  # inserted as typed text, without the editor's auto-indent
    notebook.page.keyboard.press("Escape")


def test_exercise_runs_and_validates(open_notebook, lab) -> None:
    notebook = open_notebook(f"course/{EXERCISE}")
    served = lab.root / "course" / EXERCISE
    cells = notebooks.read(served).cells
    answer_cells = {
        c.metadata["nbgrader"]["grade_id"]: i
        for i, c in enumerate(cells)
        if c.metadata.get("nbgrader", {}).get("solution")
    }

    # 1. The blank notebook runs until the first answer cell, which says what to do.
    notebook.run_all()
    errors = notebook.error_outputs()
    assert errors and "NotImplementedError" in errors[0], f"a blank exercise should stop at a stub: {errors}"

    # 2. Validate on the blank notebook fails and names a failing test cell.
    result = validate(notebook)
    assert "validation-failed" in result and "The following cell failed" in result, result

    # 3. The learner types an answer into every answer cell, runs everything again: no errors.
    answers = learner_answers(SOLUTIONS / EXERCISE)
    assert set(answers) == set(answer_cells), "the course and solution editions have different answer cells"
    for grade_id, index in answer_cells.items():
        type_into_cell(notebook, index, answers[grade_id])
    for grade_id, index in answer_cells.items():
        expect(notebook.cells().nth(index).locator(".cm-content")).to_contain_text(answers[grade_id].split("\n")[0])
    notebook.run_all()
    assert notebook.error_outputs() == [], "the answered exercise still shows errors"

    # 4. Validate passes; it saved the notebook first, with the answers, into the served copy only.
    result = validate(notebook)
    assert "validation-success" in result and "Success! Your notebook passes all the tests." in result, result
    saved = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in notebooks.read(served).cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    assert saved == answers
