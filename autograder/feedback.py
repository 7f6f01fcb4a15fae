"""What a learner sees of a failed test: the message and their own code, never the hidden tests.

nbgrader 0.9.6's ``generate_feedback`` renders the autograded notebook as it is: every test cell's source
*with* its hidden tests, and full tracebacks whose frames print the hidden test lines and the checks' source
(losslab/grading/<topic>.py). Loss Lab's feedback (preprocessors wired in nbgrader_config.py) instead:

- removes the hidden test region from test cells (nbgrader's own ClearHiddenTests);
- replaces each test cell's traceback by: the frames in the learner's own cells (their code, as IPython
  printed it), the failing line of the test cell only when it is one the learner can see, and the final
  ``ErrorType: message`` line, which for a hidden test is the check's ``GradingError`` message written for
  the learner. Frames inside libraries and the course's checks are counted, not shown;
- puts a summary first: every test, its points, and why it failed.

The same functions give ``losslab self-grade`` its report (autograder/selfgrade.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nbformat.notebooknode import NotebookNode

from losslab.messages import gettext_for
from losslab.notebooks import visible_lines

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_FRAME = re.compile(r"^\s*Cell\s+In\s*\[(\d+)\],\s*line\s+(\d+)")
FILE_FRAME = re.compile(r"^\s*(File|Input)\s")
# Errors written by the grader itself (autograder/preprocessors.py): their text is already for the learner.
GRADER_ERRORS = {
    "NotRun",
    "TimeLimitExceeded",
    "MemoryLimitExceeded",
    "KernelDied",
    "CellTimeoutError",
    "OutputTimeout",
    "GraderError",
}


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def nbgrader_meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test(cell: NotebookNode) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def execution_map(nb: NotebookNode) -> dict[int, NotebookNode]:
    """Execution count -> cell; a later cell wins (after a kernel restart, counts start again)."""
    out: dict[int, NotebookNode] = {}
    for cell in nb.cells:
        count = cell.get("execution_count")
        if cell.get("cell_type") == "code" and isinstance(count, int):
            out[count] = cell
    return out


def sanitized_traceback(output: NotebookNode, cell: NotebookNode, counts: dict[int, NotebookNode]) -> list[str]:
    """The traceback of a test cell's error without hidden code (see the module docstring)."""
    ename, evalue = str(output.get("ename", "Error")), str(output.get("evalue", ""))
    kept: list[str] = []
    hidden = 0
    entries = list(output.get("traceback", []))[2:-1]  # header lines first, the "Ename: evalue" line last
    for entry in entries:
        plain = strip_ansi(entry)
        match = CELL_FRAME.match(plain)
        if match is None:
            hidden += 1  # a library or a course check (File ...), or something we cannot place
            continue
        target = counts.get(int(match.group(1)))
        line = int(match.group(2))
        if target is None:
            hidden += 1
        elif is_test(target):
            shown = visible_lines(target.get("source", "")).get(line)
            if shown is None:
                hidden += 1
            else:
                kept.append(f"test cell, line {line}:\n    {shown.strip()}")
        else:
            kept.append(entry)  # the learner's own cell (or a read-only set-up cell they can see)
    if hidden:
        kept.append(f"({hidden} frame{'s' if hidden != 1 else ''} inside the tests and libraries not shown)")
    return kept + [f"\x1b[0;31m{ename}\x1b[0m: {evalue}"]


def sanitize_notebook(nb: NotebookNode) -> NotebookNode:
    """Sanitize every test cell's error outputs in place."""
    counts = execution_map(nb)
    for cell in nb.cells:
        if not is_test(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") not in GRADER_ERRORS:
                output["traceback"] = sanitized_traceback(output, cell, counts)
    return nb


@dataclass
class TestResult:
    grade_id: str
    points: float
    passed: bool
    message: str = ""


def failure_message(cell: NotebookNode, counts: dict[int, NotebookNode] | None = None, _=str) -> str:
    """One line explaining why a test cell failed ('' when it passed), safe to show the learner; `_` translates the
    grader's own words (``losslab.messages.gettext_for``: the submission's language)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            ename = str(output.get("ename", "Error"))
            evalue = strip_ansi(str(output.get("evalue", ""))).strip()
            if evalue:
                return f"{ename}: {evalue}"
            if ename == "NotImplementedError":
                return "NotImplementedError: " + _(
                    "an answer this test uses is not written yet (replace `raise NotImplementedError()` with your code)"
                )
            # an assert without a message: show the failing line if the learner can see it
            for entry in reversed(list(output.get("traceback", []))):
                match = CELL_FRAME.match(strip_ansi(entry))
                if match and counts is not None and counts.get(int(match.group(1))) is cell:
                    shown = visible_lines(cell.get("source", "")).get(int(match.group(2)))
                    if shown:
                        return f"{ename} at: {shown.strip()}"
            line = next(
                (
                    strip_ansi(e).strip()
                    for e in output.get("traceback", [])
                    if strip_ansi(e).startswith("test cell, line")
                ),
                "",
            )
            return f"{ename}{' (' + line + ')' if line else ''}"
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            return _("the test wrote to stderr")
    return ""


def test_results(nb: NotebookNode, _=str) -> list[TestResult]:
    """Every test cell of an executed notebook: passed or failed, and why (nbgrader's rule: errors fail)."""
    counts = execution_map(nb)
    out = []
    for cell in nb.cells:
        if not is_test(cell):
            continue
        message = failure_message(cell, counts, _)
        out.append(
            TestResult(
                str(nbgrader_meta(cell).get("grade_id", "?")),
                float(nbgrader_meta(cell).get("points", 0) or 0),
                not message,
                message,
            )
        )
    return out


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def grader_notes(nb: NotebookNode) -> list[str]:
    """What the grader's limits did, cell by cell (a time or memory limit, a kernel that died)."""
    notes = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") in GRADER_ERRORS - {"NotRun"}:
                label = nbgrader_meta(cell).get("grade_id") or f"cell {index + 1}"
                evalue = strip_ansi(str(output.get("evalue", "")))
                notes.append(f"in `{label}`: {output.get('ename')}: {evalue}")
    return notes


def summary_markdown(nb: NotebookNode) -> str:
    """A first cell for the feedback: each test, its points, and why it failed, in the notebook's language (the
    Japanese edition's ``language: ja`` metadata; losslab/locale/)."""
    _ = gettext_for(str(nb.metadata.get("language", "en")))
    results = test_results(nb, _)
    if not results:
        return ""
    earned = sum(r.points for r in results if r.passed)
    total = sum(r.points for r in results)
    passed = _("Tests passed: **{passed} of {tests}** ({earned} of {total} points).").format(
        passed=sum(r.passed for r in results), tests=len(results), earned=f"{earned:g}", total=f"{total:g}"
    )
    lines = [
        "## " + _("Autograder summary"),
        "",
        passed
        + " "
        + _(
            "Each failed test says why below; fix that, restart the kernel, run all cells and check the visible "
            "tests again."
        ),
        "",
    ]
    notes = grader_notes(nb)
    if notes:
        lines += [_("What stopped the grading:"), ""] + [f"- {_escape(note)}" for note in notes] + [""]
    lines += [f"| {_('test')} | {_('points')} | {_('result')} |", "|---|---|---|"]
    for r in results:
        result = _("passed") if r.passed else _escape(r.message[:400])
        lines.append(f"| `{r.grade_id}` | {r.points if r.passed else 0:g} / {r.points:g} | {result} |")
    return "\n".join(lines)
