"""The LMS gradebook export (autograder/lms_export.py) and the late-submission policy (autograder/late.py)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.late import LatePenalty, parse_policy, penalty
from autograder.lms_export import gradebook_rows

REPO = Path(__file__).resolve().parent.parent
DUE = dt.datetime(2026, 12, 1, 12, 0, 0)


def _class(url: str) -> None:
    """Two assignments (10 and 4 points), three students: ada late on a1, ben absent from a2, cleo on time."""
    with Gradebook(url, "losslab") as gb:
        for name, points, due in (("a1", 10.0, DUE), ("a2", 4.0, DUE + dt.timedelta(days=7))):
            gb.add_assignment(name, duedate=due)
            gb.add_notebook("nb", name)
            gb.add_grade_cell("g", "nb", name, max_score=points, cell_type="code")
            gb.add_solution_cell("s", "nb", name)
        gb.add_student("cleo", first_name="Cleo", last_name="Marsh")
        gb.add_student("ada", first_name="Ada", last_name="Lovelace")
        gb.add_student("ben", first_name="Ben", last_name="Okafor")
        marks = {("ada", "a1"): (10.0, 3.0), ("cleo", "a1"): (5.5, 0.0), ("ada", "a2"): (4.0, 0.0),
                 ("cleo", "a2"): (1.0, 2.0), ("ben", "a1"): (0.0, 0.0)}  # fmt: skip
        for (student, name), (score, late) in marks.items():
            gb.add_submission(name, student, timestamp=DUE)
            gb.find_grade("g", "nb", name, student).auto_score = score
            gb.find_submission_notebook("nb", name, student).late_submission_penalty = late
        gb.db.commit()


def test_rows_one_per_roster_student_points_after_penalty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    _class(url)
    with Gradebook(url, "losslab") as gb:
        rows = gradebook_rows(gb, section="S1")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1", "a2"]
    assert rows[1] == ["Points Possible", "", "", "", "", "10", "4"]
    by_id = {r[3]: r for r in rows[2:]}
    assert [r[3] for r in rows[2:]] == ["ada", "cleo", "ben"]  # by last name: Lovelace, Marsh, Okafor
    assert by_id["ada"][5:] == ["7", "4"]  # 10 - 3 late
    assert by_id["cleo"][5:] == ["5.5", "0"]  # 1 - 2 never below zero
    assert by_id["ben"][5:] == ["0", "0"]  # a2 never submitted: 0, as nbgrader's CSV
    assert by_id["ada"][:5] == ["Lovelace, Ada", "", "ada", "ada", "S1"]
    with Gradebook(url, "losslab") as gb:
        only = gradebook_rows(gb, assignments=["a2"], students=["ben"], points_row=False)
    assert only == [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a2"],
        ["Okafor, Ben", "", "ben", "ben", "", "0"],
    ]


def test_nbgrader_export_runs_the_plugin(tmp_path: Path) -> None:
    _class(f"sqlite:///{tmp_path / 'gradebook.db'}")
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\nc.CourseDirectory.course_id = 'losslab'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "nbgrader", "export", "--exporter=autograder.lms_export.LmsGradebookExport",
               "--to=out.csv"]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((tmp_path / "out.csv").open()))
    assert rows[2][3:] == ["ada", "", "7", "4"]
    assert len(rows) == 5


@pytest.mark.parametrize(
    ("policy", "seconds_late", "score", "taken"),
    [
        ("none", 5 * 86400, 10.0, 0.0),
        ("zero", 1, 10.0, 10.0),
        ("zero", 0, 10.0, 0.0),
        ("percent:10", 1, 10.0, 1.0),  # one second late: one day started
        ("percent:10", 86400, 10.0, 1.0),
        ("percent:10", 86401, 10.0, 2.0),
        ("percent:25", 10 * 86400, 8.0, 8.0),  # never more than the score
        ("percent:10", 3600, 0.0, 0.0),
    ],
)
def test_late_policy(policy: str, seconds_late: float, score: float, taken: float) -> None:
    method, percent = parse_policy(policy)
    assert penalty(method, percent, score, seconds_late) == pytest.approx(taken)
    plugin = LatePenalty(penalty_method=method, percent_per_day=percent or 10.0)
    assert plugin.late_submission_penalty("ada", score, seconds_late) == pytest.approx(taken)


@pytest.mark.parametrize("bad", ["percent", "percent:0", "percent:150", "percent:ten", "half", "zero:5", ""])
def test_late_policy_refuses_unclear_settings(bad: str) -> None:
    with pytest.raises(ValueError, match="none, zero or percent:N"):
        parse_policy(bad)


def test_course_config_uses_the_policy() -> None:
    text = (REPO / "autograder" / "nbgrader_config.py").read_text()
    assert "c.AssignLatePenalties.plugin_class = LatePenalty" in text
    line = next(x for x in text.splitlines() if x.startswith("LATE_POLICY ="))
    parse_policy(line.split("=", 1)[1].strip().strip("\"'"))
