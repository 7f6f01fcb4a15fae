"""The feedback HTML's text (autograder/feedback.py): the message of a failed test, no hidden test."""

from __future__ import annotations

import nbformat

from autograder import feedback
from losslab import notebooks

# ----------------------------------------------------------------------------------------------- feedback


def _failed_test_notebook() -> nbformat.NotebookNode:
    answer = notebooks.solution("answer", "def f(x):\n    ### BEGIN SOLUTION\n    return 1 / x\n    ### END SOLUTION")
    answer.execution_count = 2
    test = notebooks.tests(
        "test-f",
        2,
        "assert f(1) == 1, 'f(1) is 1'\n### BEGIN HIDDEN TESTS\n"
        "secret_value = 12345\nassert f(0) == secret_value\n"
        "### END HIDDEN TESTS",
    )
    test.execution_count = 3
    ansi = "\x1b[32m"
    test.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="division by zero",
            traceback=[
                "\x1b[31m-----\x1b[39m",
                "\x1b[31mZeroDivisionError\x1b[39m   Traceback (most recent call last)",
                f"\x1b[36mCell\x1b[39m \x1b[32mIn[3]\x1b[39m{ansi}, line 4\x1b[39m\n"
                "      3 secret_value = 12345\n----> 4 assert f(0) == secret_value\n",
                "File /somewhere/losslab/grading/topic.py:10, in check(fn)\n---> 10 secret_check(fn)\n",
                f"\x1b[36mCell\x1b[39m \x1b[32mIn[2]\x1b[39m{ansi}, line 3\x1b[39m, in f(x)\n----> 3 return 1 / x\n",
                "\x1b[31mZeroDivisionError\x1b[39m: division by zero",
            ],
        )
    ]
    passing = notebooks.tests("test-g", 1, "assert True")
    passing.execution_count = 4
    return nbformat.v4.new_notebook(cells=[answer, test, passing])  # notebooks.notebook() would strip outputs


def test_feedback_hides_hidden_tests_and_keeps_the_message() -> None:
    nb = _failed_test_notebook()
    feedback.sanitize_notebook(nb)
    text = "\n".join(nb.cells[1].outputs[0]["traceback"])
    assert "secret_value" not in text and "12345" not in text and "topic.py" not in text
    assert "return 1 / x" in text  # the learner's own frame stays
    assert "ZeroDivisionError\x1b[0m: division by zero" in text
    assert "2 frames inside the tests and libraries not shown" in text
    results = feedback.test_results(nb)
    assert [(r.grade_id, r.passed) for r in results] == [("test-f", False), ("test-g", True)]
    assert results[0].message == "ZeroDivisionError: division by zero"
    summary = feedback.summary_markdown(nb)
    assert "1 of 2" in summary and "| `test-f` | 0 / 2 | ZeroDivisionError: division by zero |" in summary
    assert "What stopped" not in summary
    nb.cells[0].outputs = [
        nbformat.v4.new_output("error", ename="MemoryLimitExceeded", evalue="over 1000 MB", traceback=[])
    ]
    assert "- in `answer`: MemoryLimitExceeded: over 1000 MB" in feedback.summary_markdown(nb)


def test_feedback_shows_a_visible_failing_line() -> None:
    cell = notebooks.tests(
        "test-v", 1, "x = 1\nassert x == 2\n### BEGIN HIDDEN TESTS\nassert hidden\n### END HIDDEN TESTS"
    )
    cell.execution_count = 5
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="",
            traceback=[
                "-",
                "AssertionError Traceback",
                "Cell In[5], line 2\n      1 x = 1\n----> 2 assert x == 2\n"
                "      3 ### BEGIN HIDDEN TESTS\n      4 assert hidden\n",
                "AssertionError: ",
            ],
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    message = feedback.failure_message(nb.cells[0], feedback.execution_map(nb))
    assert message == "AssertionError at: assert x == 2"
    feedback.sanitize_notebook(nb)
    text = "\n".join(nb.cells[0].outputs[0]["traceback"])
    assert "test cell, line 2:\n    assert x == 2" in text and "hidden" not in text
