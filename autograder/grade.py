"""Grade every submission of an assignment with nbgrader (``make grade ASSIGNMENT=01_losses``).

Steps, all through nbgrader's own apps and gradebook API:

1. back up the gradebook (``gradebook.db.backup-<time>``, the newest five are kept), then record the
   assignment in it (``nbgrader generate_assignment``);
2. check each submission before running it: a missing or unreadable notebook, test cells that were edited or
   deleted (nbgrader restores them), read-only set-up cells that were deleted (restored here), and a static
   scan for tricks against the tests (autograder/scan.py);
3. run ``nbgrader autograde`` for every student in parallel worker processes (default: one per core), each
   in a staging course folder of its own (``<root>/.work/<assignment>/<student>/``) with a private copy of the
   gradebook, so that a runaway submission can never lock, corrupt or half-write the real one. Inside,
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
5. ``nbgrader generate_feedback`` (HTML without hidden tests, autograder/feedback.py) and ``nbgrader export``;
   a failure of either is reported (``Run.problems``, ``NOT WRITTEN:`` lines, exit status 1), never claimed
   written.

The gradebook helpers are in autograder/gradebook.py, the checks and statuses in autograder/checks.py, the
results and the summary in autograder/outcome.py (their names are importable from here too).

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
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
import psutil

from autograder import sandbox
from autograder.checks import (  # noqa: F401 - re-exported: grade's public names
    Check,
    NotebookInfo,
    assignment_info,
    check_submission,
    classify,
)
from autograder.gradebook import (  # noqa: F401 - re-exported
    _gradebook,
    _retry,
    backup_gradebook,
    copy_database,
    course_args,
    database_ok,
    db_url,
    merge_submission,
    read_scores,
    record_zero,
)
from autograder.outcome import (  # noqa: F401 - re-exported
    BACKSTOP_EXTRA_MB,
    BACKSTOP_GRACE_S,
    DEFAULT_MEMORY_MB,
    DEFAULT_WALL_S,
    STATUSES,
    TOKEN_ENV,
    Limits,
    Progress,
    Result,
    details_text,
    summary_table,
    write_report,
)
from autograder.preprocessors import kill_tree
from autograder.release import HERE, REPO, SOLUTIONS, generate, nbgrader


def students(assignment: str, root: Path) -> list[str]:
    submitted = root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(
        p.name for p in submitted.iterdir() if not p.name.startswith(".") and p.is_dir() and (p / assignment).is_dir()
    )


# ----------------------------------------------------------------------------------------------- grading


# psutil.process_iter keeps one cache of Process objects for the whole program and is not thread-safe: two
# grader threads scanning at once can make it raise (KeyError from its set of reused PIDs).
_SCAN_LOCK = threading.Lock()


def _token_processes(token: str, since: float) -> list[psutil.Process]:
    """The processes started since `since` whose environment carries `token` (a grading run's kernels)."""
    with _SCAN_LOCK:
        try:
            procs = list(psutil.process_iter(["create_time"]))
        except Exception:  # noqa: BLE001 - a cleanup scan must not lose a finished grading; scan afresh
            psutil.process_iter.cache_clear()
            procs = list(psutil.process_iter(["create_time"]))
    out = []
    for proc in procs:
        created = proc.info.get("create_time")  # None when psutil could not read it
        if created is None or created < since - 1 or proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(TOKEN_ENV) == token:
                out.append(proc)
        except (psutil.Error, OSError):  # gone, a zombie, or not ours to read
            continue
    return out


def _tree_rss_mb(proc: psutil.Process) -> float:
    total = 0
    for member in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total / 1e6


def _nbgrader_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            out.append(json.loads(line))
    return out


class Grader:
    """Grades the submissions of one assignment under one course root (see the module docstring)."""

    def __init__(
        self, assignment: str, root: Path, limits: Limits, source: Path, box: sandbox.Decision | None = None
    ) -> None:
        self.assignment, self.root, self.limits, self.source = assignment, root, limits, source
        self.box = box or sandbox.Decision("off", False)
        self.work = root / ".work" / assignment
        self.db_lock = threading.Lock()
        self.info: dict[str, NotebookInfo] = {}
        self.max_score = 0.0
        self.running: dict[str, subprocess.Popen] = {}
        self.cancelled = False

    def prepare(self) -> None:
        self.info = assignment_info(self.assignment, self.root)
        self.max_score = sum(sum(nb.points.values()) for nb in self.info.values())

    # -------------------------------------------------------------- one student
    def grade_student(self, student: str) -> Result:
        """One student's Result. A failure of this driver itself (not of the submission: an OS error, a busy
        gradebook) gets one more try; if that fails too, the status is "error", its traceback is in the log and
        the student's previous grades are left as they were."""
        started = time.perf_counter()
        failure = ""
        for attempt in (1, 2):
            result = Result(student, max_score=self.max_score)
            try:
                self._grade(student, result)
                with self.db_lock:
                    scored = read_scores(self.assignment, self.root, [student]).get(student)
                if scored:
                    result.score, result.max_score, result.cells = scored.score, scored.max_score, scored.cells
                if attempt > 1:
                    result.notes.append(f"graded on a second try; the first failed: {failure}")
                break
            except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
                failure = f"{type(exc).__name__}: {exc}"
                result.status, result.detail = "error", f"the driver failed: {failure}"
                result.log = (result.log + "\n" + traceback.format_exc())[-6000:]
                if self.cancelled:
                    break
        result.seconds = time.perf_counter() - started
        return result

    def _grade(self, student: str, result: Result) -> None:
        folder = self.root / "submitted" / student / self.assignment
        stage = self.work / student
        shutil.rmtree(stage, ignore_errors=True)
        check = check_submission(folder, self.info)
        result.flags.extend(check.flags)
        result.notes.extend(check.notes)
        if check.others:
            result.notes.append(f"other notebooks in the folder, not graded: {', '.join(check.others)}")
        if check.edited:
            result.notes.append(f"edited test or read-only cells, restored by nbgrader: {', '.join(check.edited)}")
        if check.deleted:
            result.notes.append(f"deleted test cells, restored by nbgrader: {', '.join(check.deleted)}")
        self._stage(folder, stage, student, check)
        if not check.valid:
            self._no_notebook(student, check, result)
            return
        run = self._run_nbgrader(student, stage)
        result.log = run["log"]
        result.peak_mb = run["peak_mb"]
        runs = _read_jsonl(stage / "report.jsonl")
        findings = _read_jsonl(stage / "guard.jsonl")
        for entry in [f for r in runs for f in r.get("findings", [])] + findings:
            text = f"run: {entry.get('msg', '')}"
            bucket = result.flags if entry.get("kind") == "flag" else result.notes
            if text not in bucket:
                bucket.append(text)
        if run.get("ended"):
            result.notes.append(
                f"{len(run['ended'])} process(es) of the submission were still running after its grading and were ended"
            )
        if runs:  # the kernel's own peak (the watchdog's), rather than the driver's view of the whole tree
            result.peak_mb = max(float(r.get("peak_mb", 0)) for r in runs)
        graded = stage / "autograded" / student / self.assignment
        if run["killed"] or run["returncode"] != 0:
            self._failed_run(student, check, run, runs, result)
            return
        with self.db_lock:
            _retry(lambda: merge_submission(db_url(self.root), db_url(stage), self.assignment, student))
            self._place_autograded(student, graded)
        classify(result, check, runs)
        with contextlib.suppress(OSError):
            shutil.rmtree(stage)

    def _no_notebook(self, student: str, check: Check, result: Result) -> None:
        if check.invalid:
            result.status = "invalid-notebook"
            result.detail = "; ".join(
                f"{name}.ipynb is not a readable notebook ({why})" for name, why in check.invalid.items()
            )
        else:
            result.status = "missing-notebook"
            expected = ", ".join(f"{name}.ipynb" for name in check.missing)
            found = f"; found {', '.join(check.others)} instead (rename it to grade it)" if check.others else ""
            result.detail = f"no {expected} in the submission{found}"
        with self.db_lock:
            _retry(lambda: record_zero(db_url(self.root), self.assignment, student))
            self._place_autograded(student, None)

    def _stage(self, folder: Path, stage: Path, student: str, check: Check) -> None:
        target = stage / "submitted" / student / self.assignment
        target.mkdir(parents=True)
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            skip = path.is_symlink() or path.is_dir() or path.suffix == ".ipynb"
            if skip or ".ipynb_checkpoints" in rel.parts:
                continue
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / rel)
        for name, nb in list(check.valid.items()):
            try:
                nbformat.write(nb, str(target / f"{name}.ipynb"))
            except Exception as exc:  # noqa: BLE001 - read but not writable as a valid notebook
                del check.valid[name]
                check.invalid[name] = f"{type(exc).__name__}: {str(exc).strip()[:160]}"
        if check.valid:
            with self.db_lock:
                copy_database(self.root / "gradebook.db", stage / "gradebook.db")

    def _protected(self, stage: Path) -> tuple[list[str], list[str]]:
        root = self.root
        protect = [
            str(self.source),
            str(SOLUTIONS),
            str(root / "submitted"),
            str(root / "autograded"),
            str(root / "feedback"),
            str(root / ".work"),
            str(root / "reports"),
            str(stage),
        ]
        # not the whole repository: on Binder it is the home folder, where Keras and matplotlib keep settings
        readonly = [str(REPO / name) for name in ("losslab", "autograder", "course", "tests", ".git")]
        readonly += [str(p) for p in REPO.iterdir() if p.is_file() and not p.name.startswith(".")]
        return protect, readonly + [str(root)]

    def _run_nbgrader(self, student: str, stage: Path) -> dict:
        limits = self.limits
        token = uuid.uuid4().hex
        protect, readonly = self._protected(stage)
        env = _nbgrader_env(
            {
                TOKEN_ENV: token,
                "LOSSLAB_GUARD_LOG": str(stage / "guard.jsonl"),
                "LOSSLAB_GUARD_PROTECT": os.pathsep.join(protect),
                "LOSSLAB_GUARD_READONLY": os.pathsep.join(readonly),
            }
        )
        begin = time.time()
        args = [
            sys.executable,
            "-m",
            "nbgrader",
            "autograde",
            self.assignment,
            f"--student={student}",
            "--force",
            f"--CourseDirectory.root={stage}",
            f"--CourseDirectory.db_url={db_url(stage)}",
            f"--CourseDirectory.source_directory={self.source}",
            f"--GuardedExecute.deadline={begin + limits.wall_s:.3f}",
            f"--GuardedExecute.wall_limit={limits.wall_s}",
            f"--GuardedExecute.memory_limit_mb={limits.memory_mb}",
            f"--GuardedExecute.report_path={stage / 'report.jsonl'}",
        ]
        if limits.cell_timeout_s:
            args.append(f"--Execute.timeout={int(limits.cell_timeout_s)}")
        group: sandbox.Cgroup | None = None
        if self.box.active:
            group = sandbox.make_cgroup(token[:16], limits.memory_mb)
            guard_log = stage / "guard.jsonl"
            guard_log.touch()
            spec = sandbox.plan(self.box.bwrap, REPO, guard_log, group)
            args.append(f"--GuardedExecute.sandbox={spec.write(stage / 'sandbox.json')}")
        log_path = stage / "nbgrader.log"
        killed, peak, returncode, ended = "", 0.0, None, []
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                args,
                cwd=HERE,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.running[student] = proc
            handle: psutil.Process | None = None
            with contextlib.suppress(psutil.Error):
                handle = psutil.Process(proc.pid)
            last_memory_check = 0.0
            try:
                while returncode is None:
                    try:
                        returncode = proc.wait(timeout=0.25)
                        break
                    except subprocess.TimeoutExpired:
                        pass
                    now = time.time()
                    if self.cancelled:
                        killed = "cancelled"
                    elif now - begin > limits.wall_s + BACKSTOP_GRACE_S:
                        killed = "timeout"
                    elif handle is not None and now - last_memory_check >= 1.0:
                        last_memory_check = now
                        with contextlib.suppress(psutil.Error):
                            rss = _tree_rss_mb(handle)
                            peak = max(peak, rss)
                            if limits.memory_mb and rss > limits.memory_mb + BACKSTOP_EXTRA_MB:
                                killed = "memory"
                    if killed:
                        self._kill_all(proc.pid, token, begin)
                        returncode = proc.wait()
            finally:
                self.running.pop(student, None)
                for leftover in _token_processes(token, begin):  # e.g. a kernel orphaned by a crash
                    kill_tree(leftover.pid)
                if group is not None:  # whatever is still in the submission's cgroup ends with its grading
                    ended = group.remove()
        text = log_path.read_text(encoding="utf-8", errors="replace")
        return {"returncode": returncode, "killed": killed, "peak_mb": peak, "log": text[-6000:], "ended": ended}

    def _kill_all(self, pid: int, token: str, since: float) -> None:
        members = []
        with contextlib.suppress(psutil.Error):
            members = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        for member in members + _token_processes(token, since):
            kill_tree(member.pid)

    def _failed_run(self, student: str, check: Check, run: dict, runs: list[dict], result: Result) -> None:
        log = run["log"]
        if run["killed"] == "timeout":
            result.status = "timeout"
            result.detail = (
                f"the driver stopped the grading {BACKSTOP_GRACE_S:.0f} s after the "
                f"{self.limits.wall_s:.0f} s limit; no test result was kept"
            )
        elif run["killed"] == "memory":
            result.status = "memory"
            ceiling = self.limits.memory_mb + BACKSTOP_EXTRA_MB
            result.detail = f"the driver stopped the grading above {ceiling:.0f} MB; no test result was kept"
        elif run["killed"] == "cancelled":
            result.status, result.detail = "error", "grading was cancelled"
            return
        elif any(word in log for word in ("NotJSONError", "ValidationError", "does not appear to be JSON")):
            result.status = "invalid-notebook"
            result.detail = "nbgrader could not read the notebook: " + _last_error(log)
        else:
            result.status = "error"
            result.detail = f"nbgrader autograde failed ({_last_error(log)}); previous grades, if any, are kept"
            return
        with self.db_lock:
            _retry(lambda: record_zero(db_url(self.root), self.assignment, student))
            self._place_autograded(student, None)

    def _place_autograded(self, student: str, graded: Path | None) -> None:
        target = self.root / "autograded" / student / self.assignment
        shutil.rmtree(target, ignore_errors=True)
        stale = self.root / "feedback" / student / self.assignment
        shutil.rmtree(stale, ignore_errors=True)
        if graded is not None and graded.is_dir():
            _drop_links(graded)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(graded), str(target))

    def cancel(self) -> None:
        self.cancelled = True


def _drop_links(folder: Path) -> None:
    """Remove symbolic links and special files a submission left in its folder: feedback copies the folder's
    files, and a link would copy whatever it points to (the gradebook, solutions/) into a student's feedback."""
    for path in sorted(folder.rglob("*"), reverse=True):
        with contextlib.suppress(OSError):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                path.unlink()


def _last_error(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "ERROR" in line:
            return line[:200]
    return lines[-1][:200] if lines else "no output"


# ----------------------------------------------------------------------------------------------- entry points


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


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
            problems.append(f"nbgrader generate_feedback failed{who}: {_last_error(done.stdout + done.stderr)}")
    exported = nbgrader("export", f"--to={root / 'grades.csv'}", *course_args(root))
    if exported.returncode != 0:
        problems.append(f"nbgrader export failed: {_last_error(exported.stdout + exported.stderr)}")
    return problems


def grade(
    assignment: str,
    root: Path = HERE,
    jobs: int | None = None,
    feedback: bool = True,
    *,
    limits: Limits | None = None,
    only: Iterable[str] | None = None,
    source: Path | None = None,
    progress: bool = False,
    sandbox_mode: str | sandbox.Decision = "off",
) -> Run:
    """Autograde every submission of `assignment` under root/submitted (or the students in `only`).

    Returns one Result per student, in name order (a Run). See the module docstring for what happens.
    `sandbox_mode` is auto, require or off (autograder/sandbox.py), or a decision already taken; require
    raises sandbox.SandboxUnavailable before anything is touched when the sandbox cannot be made.
    """
    root = root.resolve()
    limits = limits or Limits()
    source = (source or SOLUTIONS).resolve()
    box = sandbox_mode if isinstance(sandbox_mode, sandbox.Decision) else sandbox.decide(sandbox_mode)
    if progress:
        print(box.line(), flush=True)
    backup_gradebook(root)
    generate(assignment, root / "release", db_url=db_url(root), source=source)
    names = students(assignment, root)
    if only is not None:
        wanted = set(only)
        names = [n for n in names if n in wanted]
    grader = Grader(assignment, root, limits, source, box)
    grader.prepare()
    jobs = max(1, jobs or default_jobs())
    bar = Progress(len(names), progress)
    if progress:
        per_cell = f"{limits.cell_timeout_s} s" if limits.cell_timeout_s else "nbgrader_config.py's timeout"
        print(
            f"Grading {len(names)} submission(s) of {assignment} with {jobs} worker(s): "
            f"{limits.wall_s:.0f} s and {limits.memory_mb:.0f} MB per submission, {per_cell} per cell",
            flush=True,
        )
    results: dict[str, Result] = {}
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grader")
    try:
        futures = {pool.submit(grader.grade_student, name): name for name in names}
        for future in as_completed(futures):
            result = future.result()
            results[result.student] = result
            bar.update(result)
    except BaseException:
        grader.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    scores = read_scores(assignment, root)
    ordered = []
    for name in names:
        result = results[name]
        scored = scores.get(name)
        if scored:
            result.score, result.max_score, result.cells = scored.score, scored.max_score, scored.cells
        ordered.append(result)
    problems = write_outputs(assignment, root, None if only is None else names) if feedback and names else []
    with contextlib.suppress(OSError):
        shutil.rmtree(grader.work)
        (root / ".work").rmdir()
    write_report(assignment, root, ordered, limits, box.line())
    return Run(ordered, box, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument(
        "--root", type=Path, default=HERE, help="course folder holding submitted/ (default: autograder/)"
    )
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: one per core)")
    parser.add_argument("--student", action="append", help="grade only this student (repeat for several)")
    parser.add_argument(
        "--wall", type=float, default=DEFAULT_WALL_S, help="seconds per submission (default %(default)s)"
    )
    parser.add_argument(
        "--memory",
        type=float,
        default=DEFAULT_MEMORY_MB,
        help="MB for a submission's kernel process tree (default %(default)s)",
    )
    parser.add_argument(
        "--cell-timeout", type=int, default=None, help="seconds per cell (default: nbgrader_config.py's)"
    )
    parser.add_argument("--source", type=Path, default=None, help="nbgrader's source (default: solutions/)")
    parser.add_argument("--no-feedback", action="store_true", help="skip feedback HTML and the CSV")
    parser.add_argument("--feedback-only", action="store_true", help="only write the feedback and the CSV")
    parser.add_argument(
        "--sandbox",
        choices=sandbox.MODES,
        default=os.environ.get("SANDBOX") or "auto",
        help="auto: bubblewrap when it works here (default); require: refuse without it; off",
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
    limits = Limits(wall_s=args.wall, memory_mb=args.memory, cell_timeout_s=args.cell_timeout)
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
        )
    except sandbox.SandboxUnavailable as exc:
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
