"""Self-grading for self-study: ``losslab self-grade [ASSIGNMENT...]`` (``make self-grade ASSIGNMENT=...``).

Grades the learner's own exercise notebooks in course/ with the real hidden tests from solutions/, through
the same pipeline as an instructor's ``make grade`` (nbgrader autograde with the limits and the kernel
guard), in a temporary course folder: the learner's notebooks are copied, never modified. Prints, per
exercise, the points of every test and why each failed test failed (the same messages as the feedback HTML,
without the hidden test code), and keeps the feedback HTML in ``~/.losslab/feedback/<assignment>/``.

An exercise whose answer cells are all still the released stubs is reported as not started, not graded.
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

from autograder import feedback
from autograder.config import CONFIG, COURSE, SOLUTIONS, Limits
from autograder.coordinator import grade

LEARNER = "me"


def default_feedback_dir() -> Path:
    return Path.home() / ".losslab" / "feedback"


def started(nb: nbformat.NotebookNode) -> bool:
    """Whether any answer cell differs from the stub it was released with (nbgrader's checksums)."""
    from nbgrader.utils import compute_checksum

    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("checksum"):
            try:
                if compute_checksum(cell) != meta["checksum"]:
                    return True
            except Exception:  # mangled metadata: treat as an answer
                return True
        elif meta.get("solution"):
            return True  # no checksum to compare with (e.g. a copy of the solution): grade it
    return False


def _wrap(text: str, indent: int) -> str:
    return textwrap.fill(text, width=110, initial_indent="", subsequent_indent=" " * indent)


def self_grade(
    names: list[str] | None = None,
    *,
    course: Path = COURSE,
    source: Path = SOLUTIONS,
    feedback_dir: Path | None = None,
    limits: Limits | None = None,
    out: Callable[[str], object] = print,
) -> int:
    """Grade the learner's exercises; returns 0 when every requested exercise could be graded."""
    limits = limits or Limits(wall_s=CONFIG.self_grade_wall_s)
    course, source = course.resolve(), source.resolve()
    feedback_dir = feedback_dir or default_feedback_dir()
    available = sorted({p.parent.name for p in source.glob("*/*_exercise.ipynb")})
    names = names or [a for a in available if (course / a).is_dir()]
    status = 0
    total_earned = total_max = 0.0
    for assignment in names:
        if assignment not in available:
            out(f"{assignment}: no such exercise (available: {', '.join(available)})")
            status = 2
            continue
        mine = sorted((course / assignment).glob("*_exercise.ipynb"))
        if not mine:
            out(f"{assignment}: no exercise notebook in {course / assignment}")
            status = 2
            continue
        readable = {}
        for path in mine:
            try:
                readable[path] = nbformat.read(str(path), as_version=4)
            except Exception as exc:  # say what is wrong with the learner's file
                out(f"{assignment}/{path.name}: cannot be read as a notebook ({type(exc).__name__}: {exc})")
        if readable and not any(started(nb) for nb in readable.values()):
            out(f"{assignment}: not started yet (every answer cell is still as released)")
            continue
        out(f"{assignment}: grading with the hidden tests (a fresh kernel runs the whole notebook)...")
        started_at = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="losslab-self-grade-") as tmp:
            root = Path(tmp)
            folder = root / "submitted" / LEARNER / assignment
            shutil.copytree(course / assignment, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            results = grade(assignment, root=root, jobs=1, feedback=True, limits=limits, source=source)
            result = results[0]
            total_earned += result.score
            total_max += result.max_score
            out(
                f"{assignment}: {result.score:g} / {result.max_score:g} points "
                f"({result.status}, {time.perf_counter() - started_at:.0f} s)"
            )
            if result.detail:
                out("  " + _wrap(result.detail, 2))
            for flag in result.flags:
                out("  note: " + _wrap(f"an instructor's grader would flag this: {flag}", 8))
            graded = root / "autograded" / LEARNER / assignment
            for path in sorted(graded.glob("*.ipynb")):
                nb = nbformat.read(str(path), as_version=4)
                out(f"  {path.name}")
                for note in feedback.grader_notes(nb):
                    out("    " + _wrap(note.replace("`", ""), 6))
                for test in feedback.test_results(nb):
                    mark = "pass" if test.passed else "FAIL"
                    points = f"{test.points if test.passed else 0:g} / {test.points:g}"
                    line = f"    {mark}  {test.grade_id:<32} {points:>9}"
                    out(line + ("   " + _wrap(test.message, len(line) + 3) if test.message else ""))
            pages = sorted((root / "feedback" / LEARNER / assignment).glob("*.html"))
            if pages:
                target = feedback_dir / assignment
                target.mkdir(parents=True, exist_ok=True)
                for page in pages:
                    shutil.copyfile(page, target / page.name)
                out(f"  feedback: {target / pages[0].name}")
            if result.status == "error":
                out("  the grader failed; its log ends with:\n" + textwrap.indent(result.log[-1200:], "    "))
                status = 1
    if len(names) > 1 and total_max:
        out(f"total: {total_earned:g} / {total_max:g} points")
    return status


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.selfgrade [ASSIGNMENT...]``: what ``losslab self-grade`` runs."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.selfgrade", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="*", help="e.g. 01_losses (default: every exercise you started)")
    parser.add_argument("--course", type=Path, default=COURSE, help="the folder of your exercises (course/)")
    parser.add_argument("--feedback-dir", type=Path, default=None, help="where the feedback HTML goes")
    parser.add_argument(
        "--wall", type=float, default=None, help=f"seconds per exercise (default {CONFIG.self_grade_wall_s:g})"
    )
    parser.add_argument("--memory", type=float, default=None, help=f"MB for the kernel (default {CONFIG.memory_mb:g})")
    args = parser.parse_args(argv)
    return self_grade(
        args.assignment or None,
        course=args.course,
        source=SOLUTIONS,
        feedback_dir=args.feedback_dir,
        limits=Limits(wall_s=args.wall or CONFIG.self_grade_wall_s, memory_mb=args.memory or CONFIG.memory_mb),
    )


if __name__ == "__main__":
    raise SystemExit(main())
