"""The coordinator of a grading run: ``grade()`` records the assignment, makes every student's Job, has an
executor run the units (autograder/executors.py), applies each Outcome to the gradebook and autograded/
(``Grader.apply``: the only writer), then writes the feedback, grades.csv and the report. ``make grade``'s
command line is autograder/grade.py; the whole path is docs/design.md's grader pipeline.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from autograder import sandbox
from autograder.checks import NotebookInfo, assignment_info, last_error
from autograder.config import CONFIG, SOLUTIONS, Limits, thread_env
from autograder.executors import LocalExecutor, default_jobs, run_units
from autograder.gradebook import (
    backup_gradebook,
    course_args,
    db_url,
    merge_submission,
    read_scores,
    record_zero,
    retry,
    snapshot,
)
from autograder.outcome import Progress, write_report
from autograder.records import Outcome, Result
from autograder.release import generate, nbgrader
from autograder.unit import CANCEL, Job, read_folder, write_files


def students(assignment: str, root: Path) -> list[str]:
    submitted = root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(
        p.name for p in submitted.iterdir() if not p.name.startswith(".") and p.is_dir() and (p / assignment).is_dir()
    )


# ----------------------------------------------------------------------------------------------- grading


class Grader:
    """Grades the submissions of one assignment under one course root (see the module docstring): it makes each
    student's Job (autograder/unit.py) and writes what the unit returns into the gradebook and autograded/;
    an executor (autograder/executors.py, cluster.py) runs the units."""

    def __init__(
        self,
        assignment: str,
        root: Path,
        limits: Limits,
        source: Path,
        box: sandbox.Decision | None = None,
        feedback: bool = True,
    ) -> None:
        self.assignment, self.root, self.limits, self.source = assignment, root, limits, source
        self.feedback = feedback
        self.box = box or sandbox.Decision("off", False)
        self.work = root / ".work" / assignment
        self.db_lock = threading.Lock()
        self.info: dict[str, NotebookInfo] = {}
        self.max_score = 0.0

    def prepare(self) -> None:
        self.info = assignment_info(self.assignment, self.root)
        self.max_score = sum(sum(nb.points.values()) for nb in self.info.values())

    def job(self, student: str, remote: bool = False) -> Job:
        """The unit of work for `student`: files as bytes; staged under .work/ locally, in a worker's temporary
        folder when `remote`."""
        root = self.root
        with self.db_lock:
            gradebook = retry(lambda: snapshot(root / "gradebook.db"))
        source = self.source / self.assignment
        source_files = {k: v for k, v in read_folder(source).items() if not k.endswith(".ipynb")}
        private = ("submitted", "autograded", "feedback", ".work", "reports")
        return Job(
            assignment=self.assignment,
            student=student,
            files=read_folder(root / "submitted" / student / self.assignment),
            info=self.info,
            gradebook=gradebook,
            source_files=source_files,
            limits=self.limits,
            box=self.box,
            max_score=self.max_score,
            work="" if remote else str(self.work),
            protect=[str(self.source), *(str(root / name) for name in private)],
            readonly=[str(root)],
            sandbox_mode=self.box.mode if remote else "",
            # on Dask each unit writes its student's feedback; here one generate_feedback for the class is
            # cheaper (nbgrader starts once, about 3 s, instead of once per student)
            feedback=self.feedback and remote,
        )

    def apply(self, outcome: Outcome) -> Result:
        """Write what a unit returned (the gradebook and autograded/, one writer at a time) and return its
        Result with the score from the real gradebook."""
        result = outcome.result
        result.where = outcome.where
        student = result.student
        if outcome.action == "merge":
            with self.db_lock, tempfile.TemporaryDirectory(prefix="losslab-merge-") as tmp:
                Path(tmp, "gradebook.db").write_bytes(outcome.gradebook)
                staged = Path(tmp)
                retry(lambda: merge_submission(db_url(self.root), db_url(staged), self.assignment, student))
                self._place_autograded(student, outcome.autograded, outcome.feedback)
        elif outcome.action == "zero":
            with self.db_lock:
                retry(lambda: record_zero(db_url(self.root), self.assignment, student))
                self._place_autograded(student, None, {})
        result.feedback_error = outcome.feedback_error
        if outcome.action != "keep":
            with self.db_lock:
                scored = read_scores(self.assignment, self.root, [student]).get(student)
            if scored:
                result.score, result.max_score, result.cells = scored.score, scored.max_score, scored.cells
        return result

    def _place_autograded(self, student: str, files: dict[str, bytes] | None, feedback: dict[str, bytes]) -> None:
        target = self.root / "autograded" / student / self.assignment
        shutil.rmtree(target, ignore_errors=True)
        stale = self.root / "feedback" / student / self.assignment
        shutil.rmtree(stale, ignore_errors=True)
        if files is not None:
            write_files(files, target)
        if feedback:
            write_files(feedback, stale)


# ----------------------------------------------------------------------------------------------- entry points


class Run(list):
    """One Result per student, in name order, with what the run as a whole did: the sandbox it used
    (``sandbox``, a sandbox.Decision) and the outputs that could not be written (``problems``)."""

    def __init__(self, results: Iterable[Result], box: sandbox.Decision, problems: list[str]) -> None:
        super().__init__(results)
        self.sandbox, self.problems = box, problems


def write_outputs(assignment: str, root: Path, names: list[str] | None) -> list[str]:
    """Feedback HTML (every student, or those in `names`) and grades.csv; returns what failed, one line each."""
    problems = []
    runs = [[]] if names is None else [[f"--student={name}"] for name in names]
    for extra in runs:
        done = nbgrader("generate_feedback", assignment, "--force", *extra, *course_args(root))
        if done.returncode != 0:
            who = f" for {extra[0].split('=', 1)[1]}" if extra else ""
            problems.append(f"nbgrader generate_feedback failed{who}: {last_error(done.stdout + done.stderr)}")
    return problems + export_grades(root)


def export_grades(root: Path) -> list[str]:
    """grades.csv (nbgrader export) for the whole gradebook; what failed, one line (or none)."""
    exported = nbgrader("export", f"--to={root / 'grades.csv'}", *course_args(root))
    if exported.returncode != 0:
        return [f"nbgrader export failed: {last_error(exported.stdout + exported.stderr)}"]
    return []


def grade(
    assignment: str,
    root: Path = CONFIG.root,
    jobs: int | None = None,
    feedback: bool = True,
    *,
    limits: Limits | None = None,
    only: Iterable[str] | None = None,
    source: Path | None = None,
    progress: bool = False,
    sandbox_mode: str | sandbox.Decision = "off",
    dask: str | None = None,
) -> Run:
    """Autograde every submission of `assignment` under root/submitted (or the students in `only`).

    Returns one Result per student, in name order (a Run). See the module docstring for what happens.
    `sandbox_mode` is auto, require or off (autograder/sandbox.py), or a decision already taken; require
    raises sandbox.SandboxUnavailable before anything is touched when the sandbox cannot be made.
    An `assignment` that is not a folder of `source` is a ValueError, before anything is touched.
    `dask` is the address of a Dask scheduler to grade on (autograder/cluster.py) instead of this machine; each
    worker then decides its own sandbox under the same mode.
    """
    root = root.resolve()
    limits = limits or Limits()
    source = (source or SOLUTIONS).resolve()
    if not (source / assignment).is_dir():
        known = sorted(p.name for p in source.iterdir() if p.is_dir() and p.name[:2].isdigit())
        raise ValueError(
            f"{assignment} is not an assignment of {source} (one of: {' '.join(known)}); nothing was graded. "
            "The grader records the assignment in the gradebook itself: no `make release` is needed first."
        )
    box = sandbox_mode if isinstance(sandbox_mode, sandbox.Decision) else sandbox.decide(sandbox_mode)
    if progress:
        print(box.line(), flush=True)
    backup_gradebook(root)
    generate(assignment, root / "release", db_url=db_url(root), source=source)
    names = students(assignment, root)
    if only is not None:
        wanted = set(only)
        names = [n for n in names if n in wanted]
    grader = Grader(assignment, root, limits, source, box, feedback=feedback)
    grader.prepare()
    jobs = max(1, jobs or default_jobs())
    bar = Progress(len(names), progress)
    if progress:
        print(
            f"Grading {len(names)} submission(s) of {assignment} "
            + (f"on the Dask cluster at {dask}" if dask else f"with {jobs} worker(s)")
            + ": "
            f"{limits.wall_s:.0f} s, {limits.memory_mb:.0f} MB of memory, {limits.disk_mb:.0f} MB of disk and "
            f"{limits.output_mb:.0f} MB of output per submission, {limits.cell_s} s per cell",
            flush=True,
        )
    CANCEL.clear()
    if dask:
        from autograder.cluster import DaskExecutor

        executor = DaskExecutor(dask)
    else:
        executor = LocalExecutor(jobs, thread_env(default_jobs(), min(jobs, len(names))))
    results = run_units(executor, grader, names, bar.update)
    scores = read_scores(assignment, root)
    ordered = []
    for name in names:
        result = results[name]
        scored = scores.get(name)
        if scored:
            result.score, result.max_score, result.cells = scored.score, scored.max_score, scored.cells
        ordered.append(result)
    problems = []
    if feedback and names and dask:  # each unit returned its student's feedback; the CSV is the class's
        problems = [r.feedback_error for r in ordered if r.feedback_error] + export_grades(root)
    elif feedback and names:
        problems = write_outputs(assignment, root, None if only is None else names)
    with contextlib.suppress(OSError):
        shutil.rmtree(grader.work)
        (root / ".work").rmdir()
    write_report(assignment, root, ordered, limits, box.line())
    return Run(ordered, box, problems)
