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
   ``GuardedExecute`` (autograder/executor.py) enforces the per-cell timeout (nbgrader's), the
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

This module parses the command line and dispatches to ``coordinator.grade`` (autograder/coordinator.py);
each step is in the module that docs/design.md's pipeline names: the configuration in autograder/config.py,
the gradebook in gradebook.py, one submission's grading in unit.py (its checks and statuses in checks.py, its
processes in supervisor.py, the executor in executor.py, the sandbox in sandbox.py and cgroups.py), where the
units run in executors.py and cluster.py, the records between the steps in records.py, the summary and the
report in outcome.py.

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
import os
import sys
from pathlib import Path

from autograder import sandbox
from autograder.config import CONFIG, MODES, Limits
from autograder.coordinator import grade, students, write_outputs
from autograder.outcome import details_text, summary_table


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
