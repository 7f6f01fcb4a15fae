"""Grading round trips through the real nbgrader pipeline (autograder/grade.py), for every assignment.

For each assignment in solutions/, one grading run over a temporary course folder holds:
- ``solution``: the solution notebooks submitted as a student, with code in the first answer cell that writes
  TensorFlow-style log lines and warnings to stderr before every later cell: full marks all the same
  (autograder/POLICY.md). One submission serves both checks: a clean copy would execute the same notebook
  again for nothing that the noisy one does not show;
- ``blank``: the learner's edition from course/ as released: zero on every test cell;
- one submission per bundle of tests/submissions/<assignment>.py: plausible wrong answers must lose the
  points their variant names, and correct alternatives must keep every point.
Executing the solutions here is also how every solution notebook is run top to bottom by the suite.
``LOSSLAB_BUNDLES=0`` grades the solution and the blank edition only (CI's pass on a second backend, within its
time; `make test-backend BACKEND=jax` grades every bundle).
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import pytest

from autograder.coordinator import grade
from autograder.release import assignments
from losslab import notebooks
from tests.support import (
    COURSE,
    build_submission,
    exercise_notebooks,
    load_variants,
    with_stderr_noise,
    write_submission,
)

pytestmark = pytest.mark.slow


def _test_cells(assignment: str) -> dict[str, float]:
    cells: dict[str, float] = {}
    for path in exercise_notebooks(assignment):
        cells.update(notebooks.graded_cells(notebooks.read(path)))
    return cells


def _prepare(root: Path, assignment: str) -> dict[str, list]:
    """Write every submission; returns {student: [variants]} for the bundles."""
    sources = exercise_notebooks(assignment)
    write_submission(root, "solution", assignment, {p.name: with_stderr_noise(notebooks.read(p)) for p in sources})
    write_submission(root, "blank", assignment, {p.name: notebooks.read(COURSE / assignment / p.name) for p in sources})
    bundles: dict[str, list] = defaultdict(list)
    if os.environ.get("LOSSLAB_BUNDLES", "1") == "0":  # `make test-backend BUNDLES=0`: solution and blank only
        return bundles
    for variant in load_variants(assignment):
        bundles[f"bundle-{variant.bundle}"].append(variant)
    for student, variants in bundles.items():
        subs = {}
        for path in sources:
            replace = {}
            for v in variants:
                if v.notebook in (None, path.name):
                    clash = set(replace) & set(v.replace)
                    assert not clash, f"{student}: variants replace the same cell(s) {clash}; use another bundle"
                    replace.update(v.replace)
            subs[path.name] = build_submission(path, replace)
        write_submission(root, student, assignment, subs)
    return bundles


@pytest.mark.parametrize("assignment", assignments())
def test_round_trip(assignment: str, tmp_path: Path) -> None:
    bundles = _prepare(tmp_path, assignment)
    results = {r.student: r for r in grade(assignment, root=tmp_path, jobs=2, feedback=True)}
    cells = _test_cells(assignment)
    assert cells, f"{assignment} has no graded cells"
    problems = []

    def expect(cond: bool, message: str) -> None:
        if not cond:
            problems.append(message)

    for student, result in results.items():
        expect(
            result.status == "ok",
            f"{student}: status {result.status} ({result.detail}); notes: {result.notes}; log:\n{result.log[-1500:]}",
        )
        expect(set(result.cells) >= set(cells), f"{student}: missing grades for {set(cells) - set(result.cells)}")

    r = results["solution"]
    lost = {g: s for g, s in r.cells.items() if s[0] < s[1]}
    expect(
        r.score == r.max_score == sum(cells.values()) and not lost and not r.flags,
        f"solution (writing to stderr): {r.score}/{r.max_score}, lost points in {lost}, flags {r.flags}",
    )

    blank = results["blank"]
    scored = {g: s for g, s in blank.cells.items() if s[0] > 0}
    expect(blank.score == 0 and not scored, f"blank edition scored {blank.score}: {scored}")

    for student, variants in bundles.items():
        r = results[student]
        must_lose = {g for v in variants for g in v.loses}
        may_lose = must_lose | {g for v in variants for g in v.may_lose}
        for v in variants:
            for gid in v.loses:
                assert gid in cells, f"variant {v.name} names unknown test cell {gid}"
                score, maximum = r.cells.get(gid, (None, None))
                expect(
                    score is not None and score < maximum,
                    f"wrong submission '{v.name}' ({v.why}) kept {score}/{maximum} on {gid}",
                )
        collateral = {g: s for g, s in r.cells.items() if g not in may_lose and s[0] < s[1]}
        expect(
            not collateral,
            f"{student} ({[v.name for v in variants]}) lost points outside the cells its variants name: {collateral}",
        )

    feedback = tmp_path / "feedback" / "solution" / assignment
    expect(any(feedback.glob("*.html")), "no feedback HTML was written for the solution")
    expect((tmp_path / "grades.csv").exists(), "no grades CSV was written")
    assert not problems, "\n".join(problems)
