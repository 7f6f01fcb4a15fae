"""nbgrader preprocessors of Loss Lab's own, wired in by autograder/nbgrader_config.py.

TestCellStderr: nbgrader scores a test cell 0 when it wrote anything to stderr. Our tests fail by raising,
never by printing, so in an autograded test cell that raised no error, stderr (TensorFlow log lines,
Keras or JAX warnings, a learner's logging) is moved to stdout: still in the feedback, no longer a zero.

The executor, nbgrader's Execute with the limits of one submission (GuardedExecute), is in
autograder/executor.py.

FeedbackTracebacks and FeedbackSummary: the feedback HTML explains each failed test by its message (the
``GradingError`` or assertion text) without printing hidden test code or the checks' source
(autograder/feedback.py does the work).
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

from autograder import feedback


class TestCellStderr(NbGraderPreprocessor):
    """Relabel stderr as stdout in passing autograded test cells (see the module docstring)."""

    __test__ = False  # not a pytest test class

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            return cell, resources
        outputs = cell.get("outputs", [])
        if any(o.output_type == "error" for o in outputs):
            return cell, resources
        for output in outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.name = "stdout"
        return cell, resources


# ----------------------------------------------------------------------------------------------- feedback


class FeedbackTracebacks(NbGraderPreprocessor):
    """Replace each test cell's traceback by its message and the learner's own frames (no hidden code)."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        feedback.sanitize_notebook(nb)
        return nb, resources


class FeedbackSummary(NbGraderPreprocessor):
    """Insert a first cell that lists every failed test with the reason it failed."""

    def preprocess(self, nb: NotebookNode, resources: dict):
        summary = feedback.summary_markdown(nb)
        if summary:
            cell = NotebookNode(cell_type="markdown", metadata={}, source=summary, id="losslab-summary")
            nb.cells.insert(0, cell)
        return nb, resources
