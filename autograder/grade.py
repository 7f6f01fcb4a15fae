"""Grade every submission of an assignment with nbgrader (``make grade ASSIGNMENT=01_losses``).

Steps, all through nbgrader's own apps: record the assignment in the gradebook (generate_assignment), then
``nbgrader autograde`` once per student in parallel worker processes, then ``generate_feedback`` and
``export``. Submissions are read from ``<root>/submitted/<student>/<assignment>/``; ``<root>`` is autograder/
unless ``--root`` names another course folder (the tests grade in temporary ones).
Re-running is idempotent: every student is regraded from their submission.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder.release import HERE, generate, nbgrader


@dataclass
class Result:
    student: str
    status: str = "ok"  # ok | error
    seconds: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)
    log: str = ""


def course_args(root: Path) -> list[str]:
    return [f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}"]


def students(assignment: str, root: Path) -> list[str]:
    submitted = root / "submitted"
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir()) if submitted.is_dir() else []


def autograde_one(assignment: str, student: str, root: Path) -> Result:
    started = time.perf_counter()
    done = nbgrader("autograde", assignment, f"--student={student}", "--force", *course_args(root))
    status = "ok" if done.returncode == 0 else "error"
    return Result(student, status, time.perf_counter() - started, log=(done.stdout + done.stderr)[-4000:])


def read_scores(assignment: str, root: Path) -> dict[str, Result]:
    """Per-student totals and per-cell (score, max) from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, Result] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            result = Result(student.id, score=submission.score, max_score=submission.max_score)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    result.cells[grade.name] = (float(grade.score), float(grade.max_score))
            out[student.id] = result
    return out


def grade(assignment: str, root: Path = HERE, jobs: int | None = None, feedback: bool = True) -> list[Result]:
    """Autograde every submission of `assignment` under root/submitted; returns one Result per student."""
    root = root.resolve()
    generate(assignment, root / "release", db_url=f"sqlite:///{root / 'gradebook.db'}")
    names = students(assignment, root)
    jobs = max(1, jobs or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        runs = list(pool.map(lambda s: autograde_one(assignment, s, root), names))
    scores = read_scores(assignment, root)
    results = []
    for run in runs:
        scored = scores.get(run.student)
        if scored:
            run.score, run.max_score, run.cells = scored.score, scored.max_score, scored.cells
        results.append(run)
    if feedback and names:
        nbgrader("generate_feedback", assignment, "--force", *course_args(root))
        nbgrader("export", f"--to={root / 'grades.csv'}", *course_args(root))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=HERE, help="course folder holding submitted/ (default: autograder/)")
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: the number of cores)")
    parser.add_argument("--feedback-only", action="store_true", help="only (re)write feedback HTML and the CSV")
    args = parser.parse_args(argv)
    if args.feedback_only:
        done = nbgrader("generate_feedback", args.assignment, "--force", *course_args(args.root.resolve()))
        print(done.stdout + done.stderr)
        return done.returncode
    results = grade(args.assignment, args.root, args.jobs)
    if not results:
        print(f"no submissions of {args.assignment} under {args.root / 'submitted'}/<student>/{args.assignment}/")
        return 1
    print(f"{'student':<24}{'score':>8}{'max':>6}{'time':>8}  status")
    for r in results:
        print(f"{r.student:<24}{r.score:>8.1f}{r.max_score:>6.1f}{r.seconds:>7.1f}s  {r.status}")
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
