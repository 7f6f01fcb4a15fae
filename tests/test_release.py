"""course/ is generated from solutions/: a fresh release must equal the committed course/ byte for byte,
and the learner's edition must hold no solution or hidden test."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import release
from autograder.release import assignments
from losslab import notebooks
from tests.support import COURSE, REPO, SOLUTIONS


def test_course_matches_a_fresh_release() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autograder.release", "--check"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
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


def _git_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway git checkout with a committed course/a.ipynb; release's paths pointed at it."""
    repo = tmp_path / "repo"
    (repo / "course").mkdir(parents=True)
    (repo / "course" / "a.ipynb").write_text("committed")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    monkeypatch.setattr(release, "REPO", repo)
    monkeypatch.setattr(release, "COURSE", repo / "course")
    monkeypatch.setattr(release, "MANIFEST", tmp_path / "manifest.json")
    return repo / "course"


def test_release_protects_learner_edits_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = _git_course(tmp_path, monkeypatch)
    assert release.learner_edits({}) == []  # a clean checkout: nothing at risk
    (course / "a.ipynb").write_text("a learner's answer")
    (course / "new.ipynb").write_text("a new chapter, released but not committed yet")
    fresh = {"new.ipynb": hashlib.sha256(b"a new chapter, released but not committed yet").hexdigest()}
    assert release.learner_edits(fresh) == ["course/a.ipynb"]
    # what the last release wrote is not a learner's edit, even when this release writes something else
    release.MANIFEST.write_text(json.dumps({"a.ipynb": hashlib.sha256(b"a learner's answer").hexdigest()}))
    assert release.learner_edits({}) == ["course/new.ipynb"]
    assert release.learner_edits(fresh) == []
    release.MANIFEST.write_text("{not json")  # a corrupt manifest is ignored, never a crash
    assert release.learner_edits(fresh) == ["course/a.ipynb"]


def test_an_assignment_with_two_exercise_notebooks_is_listed_once(tmp_path) -> None:
    from autograder.release import assignments

    for name in ("02_x/a_exercise.ipynb", "02_x/b_exercise.ipynb", "03_y/c_exercise.ipynb", "03_y/d_tutorial.ipynb"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("{}")
    assert assignments(tmp_path) == ["02_x", "03_y"]
