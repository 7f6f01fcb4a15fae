"""A submission's status (autograder/checks.py), from the executor's RunReports."""

from __future__ import annotations

import json

from autograder.checks import Check, classify
from autograder.executor import GuardedExecute
from autograder.records import Result, RunReport

# ----------------------------------------------------------------------------------------------- statuses


def _runs(*entries: dict) -> list[RunReport]:
    """The executor's report lines for `entries`, as the unit reads them."""
    return [RunReport.from_json(json.dumps(entry), "s") for entry in entries]


def test_classify_orders_statuses_and_keeps_details() -> None:
    result = Result("s", flags=["code: x"])
    classify(result, Check(edited=["test-a"]), _runs({"events": [], "cell_timeouts": [], "errors": []}))
    assert result.status == "suspicious"
    result = Result("s", flags=["code: x"])
    classify(
        result,
        Check(),
        _runs({"events": [{"reason": "memory", "cell": "answer-2"}], "restarts": 1, "cell_timeouts": [], "errors": []}),
    )
    assert result.status == "memory" and "answer-2" in result.detail and "restarted" in result.detail
    result = Result("s")
    classify(
        result,
        Check(),
        _runs(
            {
                "events": [],
                "cell_timeouts": [],
                "errors": [{"cell": "answer", "kind": "answer", "ename": "NotImplementedError", "evalue": ""}],
            }
        ),
    )
    assert result.status == "ok"  # an unanswered question is not an import error
    result = Result("s")
    classify(
        result,
        Check(deleted=["test-b"]),
        _runs(
            {
                "events": [],
                "cell_timeouts": [],
                "errors": [{"cell": "setup", "kind": "setup", "ename": "NameError", "evalue": "x"}],
            }
        ),
    )
    assert result.status == "import-error"


def test_a_locked_cell_after_an_answer_fails_with_the_answer() -> None:
    """A "try it" cell that calls a blank answer raises NotImplementedError: unanswered, not an import error."""
    from nbformat.v4 import new_code_cell, new_notebook

    def cell(grade_id: str, ename: str = "", **flags: bool) -> object:
        c = new_code_cell("pass", metadata={"nbgrader": {"grade_id": grade_id, "locked": True, **flags}})
        c.outputs = [{"output_type": "error", "ename": ename, "evalue": "", "traceback": []}] if ename else []
        return c

    executor = GuardedExecute.__new__(GuardedExecute)  # only the error survey, no kernel
    executor.nb = new_notebook(
        cells=[
            cell("setup", "NameError"),
            cell("answer", "NotImplementedError", solution=True, locked=False),
            cell("try-answer", "NotImplementedError"),
        ]
    )
    kinds = {e.cell: e.kind for e in executor._cell_errors()}
    assert kinds == {"setup": "setup", "answer": "answer", "try-answer": "uses-answer"}
    result = Result("s")
    classify(result, Check(), [RunReport(errors=executor._cell_errors()[1:])])
    assert result.status == "ok"
