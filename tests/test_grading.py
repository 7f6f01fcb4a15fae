"""Grading round trips through the real nbgrader pipeline (autograder/coordinator.py), for every assignment.

Each notebook of an assignment is graded in these roles, each executed once:
- ``solution``: the solution notebook submitted as a student, with code in its first answer cell that writes
  TensorFlow-style log lines and warnings to stderr before every later cell: full marks all the same
  (autograder/POLICY.md). Executing the solutions here is also how every solution notebook is run top to bottom
  by the suite;
- ``blank``: the learner's edition from course/ as released: zero on every test cell;
- one per bundle of tests/submissions/<assignment>.py that changes it: plausible wrong answers must lose the
  points their variants name and nothing else, and correct alternatives must keep every point.
A submission holds one role of every notebook (nbgrader runs each notebook in a kernel of its own): the bundle
of a letter in every notebook that has one. A bundle that changes only some notebooks of an assignment carries
the solutions of the others, each solution once (it is their solution check: full marks); a bundle left over when
those are spent, and a solution that no bundle carried, are graded in a second run whose assignment holds only the
notebooks they change: nothing is executed twice and every submission is complete (a missing notebook would be
the grader's ``missing-notebook`` status).
Which edition is submitted is ``LOSSLAB_EDITION``'s (tests/support.py's ``edition``): the English (solutions/ and
course/), or the Japanese (each solution built by ``losslab.i18n.edition``, the blank edition and the bundles' base
from course/ja/ and that build), graded against the same source and in Japanese (the grader reads the
submission's ``language: ja``), which CI's JAX tier runs instead of the English.
What a run grades is chosen by ``LOSSLAB_BUNDLES`` (the Makefile sets it; unset, everything):
- ``0``: the solution and the blank edition only. `make test` (its budget is 20 minutes on 2 cores) and CI's pass on
  a second backend (`make test-backend BACKEND=jax BUNDLES=0`);
- ``only``: the bundles only, each with the solutions it carries. `make test-bundles`, which CI runs right after
  `make test`: together they grade every role once, on TensorFlow;
- ``1``: every role in one run (`make test-backend BACKEND=jax|torch`, and pytest run by hand).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from autograder.config import CONFIG, Limits
from autograder.coordinator import grade
from autograder.release import assignments
from losslab import notebooks
from tests.support import (
    SOLUTIONS,
    Variant,
    build_submission,
    course,
    edition,
    exercise_notebooks,
    load_variants,
    solution,
    with_stderr_noise,
    write_submission,
)

pytestmark = pytest.mark.slow


@dataclass
class Submission:
    """One student of a grading run: which notebooks carry the solution, and the bundle's variants."""

    solution: list[str] = field(default_factory=list)  # notebooks submitted as solved (with stderr noise)
    variants: list[Variant] = field(default_factory=list)
    blank: bool = False


@dataclass
class Round:
    """One grading run of the test: its notebooks (all of the assignment's, or the subset its bundles change)."""

    root: Path
    notebooks: list[str]
    source: Path | None = None  # nbgrader's source; None: solutions/
    students: dict[str, Submission] = field(default_factory=dict)


def _notebook_of(variant: Variant, sources: list[Path]) -> str:
    if variant.notebook:
        return variant.notebook
    holding = [p.name for p in sources if set(variant.replace) <= set(_answer_ids(p))]
    assert len(holding) == 1, f"variant {variant.name}: name its notebook= (its cells are in {holding or 'none'})"
    return holding[0]


def _answer_ids(path: Path) -> list[str]:
    return [notebooks.grade_id(c) for c in notebooks.read(path).cells if notebooks.grade_id(c)]


def _bundles(assignment: str, sources: list[Path]) -> dict[str, dict[str, list[Variant]]]:
    """{bundle letter: {notebook: its variants}}."""
    bundles: dict[str, dict[str, list[Variant]]] = {}
    for variant in load_variants(assignment):
        bundles.setdefault(variant.bundle, {}).setdefault(_notebook_of(variant, sources), []).append(variant)
    return dict(sorted(bundles.items()))


def _plan(root: Path, assignment: str, sources: list[Path]) -> list[Round]:
    """Who is graded in which run (see the module docstring)."""
    every = [p.name for p in sources]
    roles = bundle_roles()
    main = Round(root, every)
    if roles != "only":
        main.students["blank"] = Submission(blank=True)
    unsolved = list(every)  # notebooks whose solution no submission carries yet
    leftover: dict[str, Submission] = {}
    if roles != "0":
        for letter, parts in _bundles(assignment, sources).items():
            variants = [v for part in parts.values() for v in part]
            missing = [nb for nb in every if nb not in parts]
            if all(nb in unsolved for nb in missing):
                main.students[f"bundle-{letter}"] = Submission(solution=missing, variants=variants)
                unsolved = [nb for nb in unsolved if nb not in missing]
            else:
                leftover[f"bundle-{letter}"] = Submission(variants=variants)
    if roles != "only":  # with "only", `make test` (LOSSLAB_BUNDLES=0) graded the solutions no bundle carries
        if unsolved == every:
            main.students["solution"] = Submission(solution=every)
        elif unsolved:
            leftover["solution"] = Submission(solution=unsolved)
    rounds = [main]
    for student, sub in leftover.items():
        changed = sorted(set(sub.solution) | {_notebook_of(v, sources) for v in sub.variants})
        extra = next((r for r in rounds[1:] if r.notebooks == changed), None)
        if extra is None:
            extra = Round(root / f"only-{len(rounds)}", changed, _subset_source(root, assignment, changed, len(rounds)))
            rounds.append(extra)
        extra.students[student] = sub
    return [r for r in rounds if r.students]


def bundle_roles() -> str:
    """LOSSLAB_BUNDLES: "1" (every role), "0" (solution and blank) or "only" (the bundles); see the docstring."""
    roles = os.environ.get("LOSSLAB_BUNDLES", "1")
    if roles not in {"0", "1", "only"}:
        raise ValueError(f"LOSSLAB_BUNDLES={roles!r}: use 0 (solution and blank), only (the bundles) or 1 (every role)")
    return roles


def _subset_source(root: Path, assignment: str, keep: list[str], index: int) -> Path:
    """nbgrader's source for a run that grades only the notebooks in `keep`: solutions/<assignment> without the
    other exercise notebooks."""
    source = root / f"source-{index}"
    shutil.copytree(
        SOLUTIONS / assignment,
        source / assignment,
        ignore=lambda folder, names: [n for n in names if n.endswith("_exercise.ipynb") and n not in keep],
    )
    return source


def _write(rnd: Round, assignment: str, sources: list[Path]) -> None:
    for student, sub in rnd.students.items():
        subs = {}
        for name in rnd.notebooks:
            path = SOLUTIONS / assignment / name
            if sub.blank:
                subs[name] = notebooks.read(course() / assignment / name)
            elif name in sub.solution:
                subs[name] = with_stderr_noise(solution(path))
            else:
                replace: dict[str, str] = {}
                for v in sub.variants:
                    if _notebook_of(v, sources) == name:
                        clash = set(replace) & set(v.replace)
                        assert not clash, f"{student}: variants replace the same cell(s) {clash}; use another bundle"
                        replace.update(v.replace)
                subs[name] = build_submission(solution(path), replace)
        write_submission(rnd.root, student, assignment, subs)


def _cells(assignment: str, names: list[str]) -> dict[str, dict[str, float]]:
    """{notebook: {test cell: points}}."""
    return {name: notebooks.graded_cells(notebooks.read(SOLUTIONS / assignment / name)) for name in names}


# What a round trip checks is what the grader decides, not how fast a loaded test machine runs a submission: the
# wall per submission is three times make grade's, so that two test workers grading two submissions each on 2 cores
# do not turn a slow kernel into a timeout (the limits have tests of their own: tests/test_autograder_limits.py).
ROUND_TRIP_LIMITS = Limits(wall_s=3 * CONFIG.wall_s)


@pytest.mark.parametrize("assignment", assignments())
def test_round_trip(assignment: str, tmp_path: Path) -> None:
    sources = exercise_notebooks(assignment)
    rounds = _plan(tmp_path, assignment, sources)
    if not rounds:
        pytest.skip(f"LOSSLAB_BUNDLES={bundle_roles()}: {assignment} has no submission in this role")
    problems = []

    def expect(cond: bool, message: str) -> None:
        if not cond:
            problems.append(message)

    for rnd in rounds:
        _write(rnd, assignment, sources)
        main = rnd.root == tmp_path
        run = grade(assignment, root=rnd.root, jobs=2, feedback=main, source=rnd.source, limits=ROUND_TRIP_LIMITS)
        print(f"{assignment}, {rnd.notebooks}:", ", ".join(f"{r.student} {r.seconds:.0f} s" for r in run))
        results = {r.student: r for r in run}
        expect(sorted(results) == sorted(rnd.students), f"graded {sorted(results)}, submitted {sorted(rnd.students)}")
        by_notebook = _cells(assignment, rnd.notebooks)
        cells = {g: p for part in by_notebook.values() for g, p in part.items()}
        assert all(by_notebook.values()), f"{assignment}: a notebook without graded cells in {by_notebook}"
        for student, sub in rnd.students.items():
            r = results.get(student)
            if r is None:
                continue
            expect(
                r.status == "ok",
                f"{student}: status {r.status} ({r.detail}); notes: {r.notes}; log:\n{r.log[-1500:]}",
            )
            expect(set(r.cells) >= set(cells), f"{student}: missing grades for {set(cells) - set(r.cells)}")
            expect(r.max_score == sum(cells.values()), f"{student}: out of {r.max_score}, not {sum(cells.values())}")
            if sub.blank:
                scored = {g: s for g, s in r.cells.items() if s[0] > 0}
                expect(r.score == 0 and not scored, f"blank edition scored {r.score}: {scored}")
                continue
            solved = {g for name in sub.solution for g in by_notebook[name]}
            lost = {g: r.cells.get(g) for g in solved if r.cells.get(g, (0, 1))[0] < r.cells.get(g, (0, 1))[1]}
            expect(
                not lost and not r.flags,
                f"{student}: the solution of {sub.solution} (writing to stderr) lost points in {lost}, flags {r.flags}",
            )
            if sub.solution == rnd.notebooks:
                expect(r.score == r.max_score, f"solution (writing to stderr): {r.score}/{r.max_score}")
            must_lose = {g for v in sub.variants for g in v.loses}
            may_lose = must_lose | {g for v in sub.variants for g in v.may_lose}
            for v in sub.variants:
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
                f"{student} ({[v.name for v in sub.variants]}, the solution of {sub.solution}) lost points outside "
                f"the cells its variants name: {collateral}",
            )
        for student in results:  # each graded in the edition's language (autograder/unit.py reads it)
            for name in rnd.notebooks:
                graded = rnd.root / "autograded" / student / assignment / name
                language = notebooks.read(graded).metadata.get("language", "en") if graded.exists() else "none"
                expect(language == edition(), f"{student}'s {name} was graded in {language}, not in {edition()}")
        if main:
            for student, sub in rnd.students.items():
                if sub.solution:
                    feedback = tmp_path / "feedback" / student / assignment
                    expect(any(feedback.glob("*.html")), f"no feedback HTML was written for {student}")
            expect((tmp_path / "grades.csv").exists(), "no grades CSV was written")
    assert not problems, "\n".join(problems)


def _roles(rounds: list[Round]) -> list[tuple[str, str]]:
    """(notebook, role) of every execution the rounds make: "blank", "solution" or the bundle's letter."""
    out = []
    for rnd in rounds:
        for student, sub in rnd.students.items():
            for name in rnd.notebooks:
                out.append((name, "blank" if sub.blank else "solution" if name in sub.solution else student))
    return out


@pytest.mark.parametrize("assignment", assignments())
def test_make_test_and_make_test_bundles_together_grade_every_role(
    assignment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOSSLAB_BUNDLES=0 (make test) and =only (make test-bundles) share out the roles of one full run (=1): each
    bundle in one of them, the blank edition and every notebook's solution in make test's, nothing twice in either."""
    sources = exercise_notebooks(assignment)
    plans = {}
    for roles in ("1", "0", "only"):
        monkeypatch.setenv("LOSSLAB_BUNDLES", roles)
        plans[roles] = _roles(_plan(tmp_path / roles, assignment, sources))
    for roles, plan in plans.items():
        assert len(plan) == len(set(plan)), f"LOSSLAB_BUNDLES={roles} executes a role twice: {sorted(plan)}"
    every = {p.name for p in sources}
    assert {(name, "blank") for name in every} | {(name, "solution") for name in every} == set(plans["0"])
    bundles = {(name, role) for name, role in plans["1"] if role.startswith("bundle-")}
    assert bundles, f"{assignment} has no wrong-answer bundle (tests/submissions/{assignment}.py)"
    assert bundles <= set(plans["only"]) and not {r for _, r in plans["only"]} & {"blank"}
    assert set(plans["1"]) <= set(plans["0"]) | set(plans["only"])
    monkeypatch.setenv("LOSSLAB_BUNDLES", "some")
    with pytest.raises(ValueError, match="LOSSLAB_BUNDLES='some'"):
        _plan(tmp_path / "bad", assignment, sources)
