"""Grade every submission of an assignment with nbgrader (``make grade ASSIGNMENT=01_losses``).

Steps, all through nbgrader's own apps and gradebook API:

1. back up the gradebook (``gradebook.db.backup-<time>``, the newest five are kept), then record the
   assignment in it (``nbgrader generate_assignment``);
2. check each submission before running it: a missing or unreadable notebook, test cells that were edited or
   deleted (nbgrader restores them), read-only set-up cells that were deleted (restored here), and a static
   scan for tricks against the tests (autograder/scan.py);
3. run ``nbgrader autograde`` for every student in parallel worker threads (default: one per core,
   autograder/executors.py), or on the workers of a Dask cluster (``--dask``/``DASK=``, autograder/cluster.py).
   Each submission is one unit
   (``grade_unit``, autograder/unit.py): its files as bytes in, its grades, statuses, notes, log and
   autograded files out, graded in a staging course folder of its own (``<root>/.work/<assignment>/<student>/``
   here, a temporary folder on a worker) with a private copy of the gradebook, so that a runaway submission
   can never lock, corrupt or half-write the real one. Inside,
   ``GuardedExecute`` (autograder/preprocessors.py) enforces the per-cell timeout (nbgrader's), the
   per-submission wall-clock deadline and the memory limit on the kernel's process tree, restarts a kernel
   that died and keeps the points a submission can still earn, and runs the kernel guard
   (autograder/kernel_guard.py) before every test cell. The driver is the backstop: past the deadline plus a
   grace period, or far above the memory limit, it kills the whole process tree (the kernel is a grandchild
   in its own session: it is found by process tree and by an environment token);
   with the sandbox (``SANDBOX=auto``, the default of ``make grade``; autograder/sandbox.py), every kernel
   runs in bubblewrap (its own mount, PID and network namespaces, a per-submission cgroup), sees none of the
   course's private files and takes all its processes with it when it ends; nbgrader stays outside;
4. merge each student's grades into the real gradebook through nbgrader's API, one writer at a time (with
   retries if another program holds the database), and move their autograded notebooks into place;
5. ``nbgrader generate_feedback`` (HTML without hidden tests, autograder/feedback.py): once for the class
   here, by each unit for its own student on Dask; then ``nbgrader export``;
   a failure of either is reported (``Run.problems``, ``NOT WRITTEN:`` lines, exit status 1), never claimed
   written.

This module parses the command line and dispatches; each step is in the module that docs/design.md's
pipeline names: the configuration in autograder/config.py, the gradebook in gradebook.py, one submission's
grading in unit.py (its checks and statuses in checks.py, its processes in supervisor.py, the executor in
executor.py, the sandbox in sandbox.py and cgroups.py), where the units run in executors.py and cluster.py,
the records between the steps in records.py, the summary and the report in outcome.py.

A progress line is printed as submissions finish, then a summary table (student, score, max, time, peak
memory, status, notes) and its details; the same is written to ``<root>/reports/<assignment>.json``.
Statuses: ok, suspicious, restored-tests, import-error, timeout, memory, kernel-died, missing-notebook,
invalid-notebook, error (see autograder/POLICY.md). Re-running is idempotent: every student is regraded from
their submission and their previous automatic grades are replaced (manual grades are kept, as nbgrader does).

Submissions are read from ``<root>/submitted/<student>/<assignment>/``; ``<root>`` is autograder/ unless
``--root`` names another course folder (the tests grade in temporary ones).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from autograder import sandbox
from autograder.checks import NotebookInfo, assignment_info, last_error
from autograder.config import CONFIG, MODES, SOLUTIONS, Limits, thread_env
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
from autograder.outcome import Progress, details_text, summary_table, write_report
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument(
        "--root", type=Path, default=CONFIG.root, help="course folder holding submitted/ (default: autograder/)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: one per core)")
    parser.add_argument("--student", action="append", help="grade only this student (repeat for several)")
    parser.add_argument(
        "--wall", type=float, default=CONFIG.wall_s, help="seconds per submission (default %(default)s)"
    )
    parser.add_argument(
        "--memory",
        type=float,
        default=CONFIG.memory_mb,
        help="MB for a submission's kernel, as the machine charges it (default %(default)s)",
    )
    parser.add_argument(
        "--cell-timeout", type=int, default=None, help=f"seconds per cell (default {CONFIG.cell_timeout_s})"
    )
    parser.add_argument(
        "--disk", type=float, default=CONFIG.disk_mb, help="MB a submission may write (default %(default)s)"
    )
    parser.add_argument(
        "--output", type=float, default=CONFIG.output_mb, help="MB a submission may print (default %(default)s)"
    )
    parser.add_argument("--source", type=Path, default=None, help="nbgrader's source (default: solutions/)")
    parser.add_argument("--no-feedback", action="store_true", help="skip feedback HTML and the CSV")
    parser.add_argument("--feedback-only", action="store_true", help="only write the feedback and the CSV")
    parser.add_argument(
        "--sandbox",
        choices=MODES,
        default=os.environ.get("SANDBOX") or CONFIG.sandbox_mode,
        help="auto: bubblewrap when it works here (default); require: refuse without it; off",
    )
    parser.add_argument(
        "--dask",
        default=os.environ.get("DASK") or None,
        help="grade on the Dask cluster whose scheduler is at this address (tcp://host:8786); default: here",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    report = root / "reports" / (args.assignment + ".json")
    if args.feedback_only:
        problems = write_outputs(args.assignment, root, None)
        for line in problems:
            print(f"NOT WRITTEN: {line}")
        if not problems:
            print(f"feedback: {root / 'feedback'}/<student>/{args.assignment}/   grades: {root / 'grades.csv'}")
        return 1 if problems else 0
    if not students(args.assignment, root):
        print(f"no submissions of {args.assignment} under {root / 'submitted'}/<student>/{args.assignment}/")
        return 1
    limits = Limits(
        wall_s=args.wall,
        memory_mb=args.memory,
        cell_timeout_s=args.cell_timeout,
        disk_mb=args.disk,
        output_mb=args.output,
    )
    try:
        box = sandbox.decide(args.sandbox)
        results = grade(
            args.assignment,
            root,
            args.jobs,
            feedback=not args.no_feedback,
            limits=limits,
            only=args.student,
            source=args.source,
            progress=True,
            sandbox_mode=box,
            dask=args.dask,
        )
    except (sandbox.SandboxUnavailable, ValueError) as exc:
        print(exc)
        return 2
    except KeyboardInterrupt:
        print("\ncancelled: the gradebook holds the students graded so far (a backup was taken first)")
        return 130
    print()
    print(summary_table(results))
    details = details_text(results)
    if details:
        print("\n" + details)
    print("\n" + results.sandbox.line())
    for line in results.problems:
        print(f"NOT WRITTEN: {line}")
    if args.no_feedback:
        print(f"report: {report}")
    elif results.problems:
        print(f"feedback and grades.csv may be missing or stale (see above)   report: {report}")
    else:
        print(
            f"feedback: {root / 'feedback'}/<student>/{args.assignment}/   grades: {root / 'grades.csv'}   "
            f"report: {report}"
        )
    return 1 if results.problems or any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
