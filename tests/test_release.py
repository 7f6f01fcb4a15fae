"""course/ is generated from solutions/: a fresh release must equal the committed course/ byte for byte,
and the learner's edition must hold no solution or hidden test."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from autograder.release import assignments
from losslab import notebooks
from tests.support import COURSE, REPO, SOLUTIONS


def test_course_matches_a_fresh_release() -> None:
    done = subprocess.run([sys.executable, "-m", "autograder.release", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"course/ drifted from solutions/ (run `make release`):\n{done.stdout}{done.stderr}"


def test_every_chapter_has_a_tutorial_and_an_exercise() -> None:
    for folder in sorted(p for p in SOLUTIONS.glob("[0-9][0-9]_*") if p.is_dir()):
        names = [p.name for p in folder.glob("*.ipynb")]
        assert any(n.endswith("_exercise.ipynb") for n in names), f"{folder.name} has no *_exercise.ipynb"
        if folder.name != "00_warmup":
            assert any(n.endswith("_tutorial.ipynb") for n in names), f"{folder.name} has no *_tutorial.ipynb"
    assert (COURSE / "00_start_here.ipynb").exists()


@pytest.mark.parametrize("assignment", assignments())
def test_learner_edition_hides_solutions_and_hidden_tests(assignment: str) -> None:
    for path in (COURSE / assignment).glob("*_exercise.ipynb"):
        text = path.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{path.relative_to(REPO)} still contains {marker!r}"
        nb = notebooks.read(path)
        answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert answers, f"{path.name}: no answer cells"
        for cell in answers:
            if cell.cell_type == "code":
                assert "raise NotImplementedError()" in cell.source, f"{path.name}: answer cell not stubbed"


def test_tutorials_pass_through_unchanged() -> None:
    for src in SOLUTIONS.rglob("*.ipynb"):
        if src.name.endswith("_exercise.ipynb") or ".ipynb_checkpoints" in src.parts:
            continue
        dst = COURSE / src.relative_to(SOLUTIONS)
        assert dst.exists(), f"{dst.relative_to(REPO)} missing: run `make release`"
        assert notebooks.read(dst).cells == notebooks.read(src).cells, f"{dst.relative_to(REPO)} differs"


def test_no_solution_markers_in_tutorials() -> None:
    for path in COURSE.rglob("*.ipynb"):
        if not path.name.endswith("_exercise.ipynb"):
            assert not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", path.read_text()), path
