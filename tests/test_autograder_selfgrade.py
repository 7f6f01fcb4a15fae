"""Self-grading (autograder/selfgrade.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from autograder.config import Limits
from tests.support import REPO, build_submission

FIXTURE = REPO / "tests" / "fixtures" / "adversarial"
SOURCE = FIXTURE / "source"
PROBE = SOURCE / "probe" / "probe_exercise.ipynb"


# ----------------------------------------------------------------------------------------------- self-grading


@pytest.mark.slow
def test_self_grade_reports_failures_and_leaves_the_notebook_alone(tmp_path: Path) -> None:
    from autograder.selfgrade import self_grade

    course = tmp_path / "course"
    (course / "probe").mkdir(parents=True)
    mine = course / "probe" / "probe_exercise.ipynb"
    nb = build_submission(PROBE, {"diagnosis": 'answer = "c"'})
    nbformat.write(nb, str(mine))
    before = mine.read_bytes()
    lines: list[str] = []
    code = self_grade(
        ["probe"],
        course=course,
        source=SOURCE,
        feedback_dir=tmp_path / "fb",
        out=lines.append,
        limits=Limits(wall_s=120, memory_mb=1500, cell_timeout_s=30),
    )
    report = "\n".join(lines)
    assert code == 0, report
    assert mine.read_bytes() == before
    assert "3 / 4 points" in report
    assert re.search(r"FAIL\s+test-diagnosis\s+0 / 1\s+GradingError: not this one", report), report
    assert re.search(r"pass\s+test-fit-line\s+2 / 2", report), report
    assert "BEGIN HIDDEN" not in report and "as_text(answer" not in report
    assert (tmp_path / "fb" / "probe" / "probe_exercise.html").exists()
