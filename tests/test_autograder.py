"""The grading driver end to end (autograder/grade.py): a whole adversarial class in ONE run.

The test grades tests/fixtures/adversarial/students.py (a loop that ignores interrupts, a submission past its
time limit, a memory hog, a kernel that kills itself, an import error, edited and deleted tests, a file that is
not JSON, a missing notebook, a training that goes to NaN, and the cheap tricks against hidden tests) and checks
each student's status, score and flags, that the feedback shows no hidden test, that the gradebook is intact,
that no process is left behind, and that a second run is idempotent and backs the gradebook up first. It runs
with the sandbox on where bubblewrap works (autograder/sandbox.py; attacks from child processes are
tests/test_sandbox.py's). Each module's units are in tests/test_autograder_<module>.py.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.config import Limits
from autograder.coordinator import grade
from autograder.gradebook import (
    database_ok,
    read_scores,
)
from losslab import notebooks
from tests.support import REPO, build_submission

FIXTURE = REPO / "tests" / "fixtures" / "adversarial"
SOURCE = FIXTURE / "source"
PROBE = SOURCE / "probe" / "probe_exercise.ipynb"


def _students():
    spec = importlib.util.spec_from_file_location("adversarial_students", FIXTURE / "students.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _write_class(root: Path, students) -> None:
    honest = nbformat.writes(notebooks.read(PROBE))
    for student in students:
        folder = root / "submitted" / student.name / "probe"
        folder.mkdir(parents=True)
        if student.raw is not None:
            for name, text in student.raw.items():
                (folder / name).write_text(honest if text == "HONEST" else text)
            continue
        nb = build_submission(PROBE, student.replace)
        if student.build:
            nb = student.build(nb)
        nbformat.write(nb, str(folder / "probe_exercise.ipynb"))


def _html_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S)
    return (
        re.sub(r"<[^>]+>", "", text)
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )


def _left_behind(root: Path) -> list[int]:
    """Processes started for this course root (their guard log lives under it) that are still running."""
    out = []
    for proc in psutil.process_iter():
        try:
            if str(root) in proc.environ().get("LOSSLAB_GUARD_LOG", ""):
                out.append(proc.pid)
        except psutil.Error:
            continue
    return out


# ----------------------------------------------------------------------------------------------- the class


@pytest.mark.slow
def test_adversarial_class_in_one_run(tmp_path: Path) -> None:
    module = _students()
    students = module.STUDENTS
    # the grader takes students in name order: the one who sleeps through the wall starts first (students.py)
    assert min(s.name for s in students) == module.WALL_STUDENT, "rename the wall's student to come first"
    _write_class(tmp_path, students)
    limits = Limits(**module.LIMITS)
    # with the sandbox where it can be made (as make grade): the limits and the guard's flags hold inside it
    run = grade("probe", root=tmp_path, jobs=2, limits=limits, source=SOURCE, sandbox_mode="auto")
    results = {r.student: r for r in run}
    assert sorted(results) == sorted(s.name for s in students)
    points = {"test-mse": 1.0, "test-diagnosis": 1.0, "test-fit-line": 2.0}
    problems: list[str] = []

    def expect(cond: bool, message: str) -> None:
        if not cond:
            problems.append(message)

    for student in students:
        r = results[student.name]
        who = f"{student.name} ({student.why})"
        expect(
            r.status == student.status,
            f"{who}: status {r.status!r}, expected {student.status!r}; "
            f"detail {r.detail!r}; flags {r.flags}\n{r.log[-1500:]}",
        )
        expect(
            r.score == student.score and r.max_score == 4,
            f"{who}: {r.score}/{r.max_score}, expected {student.score}/4; cells {r.cells}",
        )
        for gid, maximum in points.items():
            want = 0.0 if gid in student.lost else maximum
            expect(
                r.cells.get(gid) == (want, maximum),
                f"{who}: {gid} scored {r.cells.get(gid)}, expected {(want, maximum)}",
            )
        flags = "\n".join(r.flags)
        for text in student.flags:
            expect(text in flags, f"{who}: no flag mentions {text!r}; flags: {r.flags}")
        if student.status != "suspicious" and not student.flags:
            expect(not r.flags, f"{who}: flagged without reason: {r.flags}")
        for text in student.detail:
            expect(text in r.detail, f"{who}: detail {r.detail!r} does not mention {text!r}")
        for text in student.notes:
            expect(text in "\n".join(r.notes), f"{who}: notes {r.notes} do not mention {text!r}")
        html = tmp_path / "feedback" / student.name / "probe" / "probe_exercise.html"
        if student.feedback:
            expect(html.exists(), f"{who}: no feedback HTML")
            if html.exists():
                text = _html_text(html)
                for snippet in student.feedback:
                    expect(snippet in text, f"{who}: the feedback does not say {snippet!r}")

    # the feedback never prints hidden tests or the checks' source
    pages = sorted((tmp_path / "feedback").glob("*/probe/*.html"))
    expect(len(pages) >= len(students) - 2, f"feedback for {len(pages)} students only")
    for page in pages:
        text = _html_text(page)
        for secret in (
            "BEGIN HIDDEN TESTS",
            "default_rng(7)",
            "default_rng(3)",
            "hidden = ",
            'fresh("core")',
            "losslab/grading/core.py",
            "def assert_close",
        ):
            expect(secret not in text, f"{page.relative_to(tmp_path)} shows hidden test code: {secret!r}")
        expect("Autograder summary" in text, f"{page.relative_to(tmp_path)} has no summary")

    # the gradebook is intact, every student is in it, and nothing was left running
    gradebook = tmp_path / "gradebook.db"
    expect(database_ok(gradebook), "the gradebook fails SQLite's integrity check")
    scores = read_scores("probe", tmp_path)
    expect(set(scores) == set(results), f"gradebook students {sorted(scores)} != graded {sorted(results)}")
    expect(not _left_behind(tmp_path), f"processes left running: {_left_behind(tmp_path)}")
    expect(
        (tmp_path / "grades.csv").exists() and (tmp_path / "reports" / "probe.json").exists(), "no grades.csv or report"
    )
    assert not problems, "\n".join(problems)

    # idempotent: regrading two students changes nothing and backs the gradebook up first
    before = {name: (s.score, s.cells) for name, s in scores.items()}
    again = grade(
        "probe", root=tmp_path, jobs=2, limits=limits, source=SOURCE, only=["honest", "not-json"], sandbox_mode="auto"
    )
    assert [(r.student, r.status, r.score) for r in again] == [
        ("honest", "ok", 4.0),
        ("not-json", "invalid-notebook", 0.0),
    ]
    after = {name: (s.score, s.cells) for name, s in read_scores("probe", tmp_path).items()}
    assert after == before
    assert list(tmp_path.glob("gradebook.db.backup-*")), "no backup of the gradebook before the second run"
    assert database_ok(gradebook)
