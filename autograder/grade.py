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
4. merge each student's grades into the real gradebook through nbgrader's API, one writer at a time (with
   retries if another program holds the database), and move their autograded notebooks into place;
5. ``nbgrader generate_feedback`` (HTML without hidden tests, autograder/feedback.py) and ``nbgrader export``.

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
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import psutil

from autograder import scan
from autograder.preprocessors import kill_tree
from autograder.release import HERE, REPO, SOLUTIONS, generate, nbgrader

COURSE_ID = "losslab"
DEFAULT_WALL_S = 300.0  # per submission; a solution grades in <= 45 s on 2 cores (DESIGN.md)
DEFAULT_MEMORY_MB = 2000.0  # the kernel's process tree; Binder stops a session at 2 GB
BACKSTOP_GRACE_S = 60.0  # the driver kills nbgrader itself this long after the deadline
BACKSTOP_EXTRA_MB = 1500.0  # ... or this far above the memory limit (nbgrader's own process included)
KEEP_BACKUPS = 5
TOKEN_ENV = "LOSSLAB_GRADING_TOKEN"
# Worst first: the status shown is the first that applies (see classify()).
STATUSES = ("error", "invalid-notebook", "missing-notebook", "memory", "timeout", "kernel-died", "suspicious",
            "import-error", "restored-tests", "ok")


@dataclass
class Limits:
    wall_s: float = DEFAULT_WALL_S
    memory_mb: float = DEFAULT_MEMORY_MB
    cell_timeout_s: int | None = None  # None: nbgrader_config.py's Execute.timeout


@dataclass
class Result:
    student: str
    status: str = "ok"
    seconds: float = 0.0
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, tuple[float, float]] = field(default_factory=dict)
    log: str = ""
    detail: str = ""
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    peak_mb: float = 0.0

    @property
    def suspicious(self) -> bool:
        return bool(self.flags)


def db_url(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def course_args(root: Path) -> list[str]:
    return [f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url(root)}"]


def students(assignment: str, root: Path) -> list[str]:
    submitted = root / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir()
                  if not p.name.startswith(".") and p.is_dir() and (p / assignment).is_dir())


# ----------------------------------------------------------------------------------------------- gradebook


def _retry(action: Callable[[], object], attempts: int = 20) -> object:
    """Run a gradebook write; if another program holds the database, wait and try again."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return action()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(min(5.0, 0.2 * 2 ** attempt))
    return None


@contextlib.contextmanager
def _gradebook(url: str):
    """nbgrader's Gradebook with a generous SQLite busy timeout (another program, formgrader, may be writing).

    SQLAlchemy 2 warns about nbgrader's own way of adding submissions (SAWarning): not ours to fix, not shown.
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(url + ("&" if "?" in url else "?") + "timeout=30", COURSE_ID) as gb:
            yield gb


def backup_gradebook(root: Path, keep: int = KEEP_BACKUPS) -> Path | None:
    """A consistent copy of the gradebook (SQLite's backup API) next to it; the newest `keep` are kept."""
    source = root / "gradebook.db"
    if not source.exists():
        return None
    target = root / f"gradebook.db.backup-{time.strftime('%Y%m%d-%H%M%S')}"
    copy_database(source, target)
    backups = sorted(root.glob("gradebook.db.backup-*"))
    for old in backups[:-keep]:
        old.unlink(missing_ok=True)
    return target


def copy_database(source: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src, \
            contextlib.closing(sqlite3.connect(str(target))) as dst:
        src.backup(dst)


def database_ok(path: Path) -> bool:
    """SQLite's own integrity check (read-only)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def merge_submission(main_url: str, stage_url: str, assignment: str, student: str) -> None:
    """Copy one student's automatic grades from a staging gradebook into the real one (nbgrader's API).

    The same fields nbgrader's autograde writes: the submission and its timestamp, each grade's auto_score
    and needs_manual_grade (manual scores are kept), each comment's auto_comment, late penalties.
    """
    from nbgrader.api import MissingEntry

    with _gradebook(stage_url) as stage, _gradebook(main_url) as main:
        submitted = stage.find_submission(assignment, student)
        try:
            main.find_student(student)
        except MissingEntry:
            main.add_student(student)
        extra = {"timestamp": submitted.timestamp} if submitted.timestamp else {}
        main.update_or_create_submission(assignment, student, **extra)
        for notebook in submitted.notebooks:
            target = main.find_submission_notebook(notebook.name, assignment, student)
            target.late_submission_penalty = notebook.late_submission_penalty
            for grade in notebook.grades:
                into = main.find_grade(grade.name, notebook.name, assignment, student)
                into.auto_score = grade.auto_score
                into.needs_manual_grade = into.manual_score is not None or grade.auto_score is None
            for comment in notebook.comments:
                main.find_comment(comment.name, notebook.name, assignment, student).auto_comment = \
                    comment.auto_comment
        main.db.commit()


def record_zero(main_url: str, assignment: str, student: str, notebooks: Iterable[str] | None = None) -> None:
    """Score 0 on every test of the named notebooks (all when None), as nbgrader does for a missing one."""
    from nbgrader.api import MissingEntry

    names = None if notebooks is None else set(notebooks)
    with _gradebook(main_url) as main:
        try:
            main.find_student(student)
        except MissingEntry:
            main.add_student(student)
        submission = main.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            if names is None or notebook.name in names:
                for grade in notebook.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        main.db.commit()


def read_scores(assignment: str, root: Path, only: Iterable[str] | None = None) -> dict[str, Result]:
    """Per-student totals and per-cell (score, max) from the gradebook (every student, or those in `only`)."""
    from nbgrader.api import MissingEntry

    out: dict[str, Result] = {}
    with _gradebook(db_url(root)) as gb:
        ids = list(only) if only is not None else [student.id for student in gb.students]
        for student_id in ids:
            try:
                submission = gb.find_submission(assignment, student_id)
            except MissingEntry:
                continue
            result = Result(student_id, score=submission.score, max_score=submission.max_score)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    result.cells[grade.name] = (float(grade.score), float(grade.max_score))
            out[student_id] = result
    return out


# ----------------------------------------------------------------------------------------------- checks


@dataclass
class NotebookInfo:
    name: str
    points: dict[str, float]  # test cell -> points
    checksums: dict[str, set[str]]  # locked cell -> the checksums it may have (released or source edition)
    release: nbformat.NotebookNode | None


def assignment_info(assignment: str, root: Path) -> dict[str, NotebookInfo]:
    """The assignment's notebooks, their test cells and locked cells, from the gradebook and the release."""
    info: dict[str, NotebookInfo] = {}
    with _gradebook(db_url(root)) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            checksums = {cell.name: {cell.checksum} for cell in notebook.source_cells if cell.locked}
            points = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
            info[notebook.name] = NotebookInfo(notebook.name, points, checksums, None)
    for name, notebook in info.items():
        path = root / "release" / assignment / f"{name}.ipynb"
        if path.exists():
            notebook.release = nbformat.read(str(path), as_version=4)
            for cell in notebook.release.cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                if meta.get("locked") and meta.get("checksum") and meta.get("grade_id") in notebook.checksums:
                    notebook.checksums[meta["grade_id"]].add(meta["checksum"])
    return info


@dataclass
class Check:
    valid: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    invalid: dict[str, str] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _restore_setup_cells(nb: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """Put back deleted read-only cells that are not tests (nbgrader restores only test cells)."""
    present = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells}
    restored = []
    previous_id = None
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        gid = meta.get("grade_id")
        setup = meta.get("locked") and not meta.get("grade") and not meta.get("solution")
        if gid and setup and gid not in present:
            position = 0
            if previous_id is not None:
                for index, existing in enumerate(nb.cells):
                    if existing.get("metadata", {}).get("nbgrader", {}).get("grade_id") == previous_id:
                        position = index + 1
                        break
            nb.cells.insert(position, nbformat.from_dict(json.loads(json.dumps(cell))))
            present.add(gid)
            restored.append(gid)
        if gid:
            previous_id = gid
    return restored


def check_submission(folder: Path, info: dict[str, NotebookInfo]) -> Check:
    from nbgrader.utils import compute_checksum

    check = Check()
    expected = {f"{name}.ipynb": name for name in info}
    for path in sorted(folder.glob("*.ipynb")):
        if path.name not in expected:
            check.others.append(path.name)
    for filename, name in expected.items():
        path = folder / filename
        if path.is_symlink():
            check.flags.append(f"{filename} is a symbolic link to {os.path.realpath(path)} (not graded)")
            check.missing.append(name)
            continue
        if not path.is_file():
            check.missing.append(name)
            continue
        try:
            nb = nbformat.read(str(path), as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no list of cells")
        except Exception as exc:  # noqa: BLE001 - any unreadable notebook is a status, not a crash
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            check.invalid[name] = f"{type(exc).__name__}: {first}"
            continue
        notebook = info[name]
        seen = {}
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
            gid = meta.get("grade_id")
            if gid in notebook.checksums:
                seen[gid] = cell
        for gid, allowed in notebook.checksums.items():
            cell = seen.get(gid)
            if cell is None:
                if gid in notebook.points:
                    check.deleted.append(gid)
                continue
            try:
                checksum = compute_checksum(cell)
            except Exception:  # noqa: BLE001 - metadata mangled beyond reading: nbgrader restores it
                checksum = ""
            if checksum not in allowed:
                check.edited.append(gid)
        if notebook.release is not None:
            restored = _restore_setup_cells(nb, notebook.release)
            if restored:
                check.notes.append(f"restored the deleted read-only cell(s) {', '.join(restored)}")
        check.flags.extend(f"code: {finding}" for finding in scan.scan_notebook(nb))
        check.valid[name] = nb
    return check


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

    def __init__(self, assignment: str, root: Path, limits: Limits, source: Path) -> None:
        self.assignment, self.root, self.limits, self.source = assignment, root, limits, source
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
            result.notes.append(f"edited test or read-only cells, restored by nbgrader: "
                                f"{', '.join(check.edited)}")
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
        if runs:  # the kernel's own peak (the watchdog's), rather than the driver's view of the whole tree
            result.peak_mb = max(float(r.get("peak_mb", 0)) for r in runs)
        graded = (stage / "autograded" / student / self.assignment)
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
            result.detail = "; ".join(f"{name}.ipynb is not a readable notebook ({why})"
                                      for name, why in check.invalid.items())
        else:
            result.status = "missing-notebook"
            expected = ", ".join(f"{name}.ipynb" for name in check.missing)
            found = f"; found {', '.join(check.others)} instead (rename it to grade it)" \
                if check.others else ""
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
        protect = [str(self.source), str(SOLUTIONS), str(root / "submitted"), str(root / "autograded"),
                   str(root / "feedback"), str(root / ".work"), str(root / "reports"), str(stage)]
        # not the whole repository: on Binder it is the home folder, where Keras and matplotlib keep settings
        readonly = [str(REPO / name) for name in ("losslab", "autograder", "course", "tests", ".git")]
        readonly += [str(p) for p in REPO.iterdir() if p.is_file() and not p.name.startswith(".")]
        return protect, readonly + [str(root)]

    def _run_nbgrader(self, student: str, stage: Path) -> dict:
        limits = self.limits
        token = uuid.uuid4().hex
        protect, readonly = self._protected(stage)
        env = _nbgrader_env({
            TOKEN_ENV: token,
            "LOSSLAB_GUARD_LOG": str(stage / "guard.jsonl"),
            "LOSSLAB_GUARD_PROTECT": os.pathsep.join(protect),
            "LOSSLAB_GUARD_READONLY": os.pathsep.join(readonly),
        })
        begin = time.time()
        args = [sys.executable, "-m", "nbgrader", "autograde", self.assignment, f"--student={student}",
                "--force",
                f"--CourseDirectory.root={stage}", f"--CourseDirectory.db_url={db_url(stage)}",
                f"--CourseDirectory.source_directory={self.source}",
                f"--GuardedExecute.deadline={begin + limits.wall_s:.3f}",
                f"--GuardedExecute.wall_limit={limits.wall_s}",
                f"--GuardedExecute.memory_limit_mb={limits.memory_mb}",
                f"--GuardedExecute.report_path={stage / 'report.jsonl'}"]
        if limits.cell_timeout_s:
            args.append(f"--Execute.timeout={int(limits.cell_timeout_s)}")
        log_path = stage / "nbgrader.log"
        killed, peak, returncode = "", 0.0, None
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(args, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
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
        text = log_path.read_text(encoding="utf-8", errors="replace")
        return {"returncode": returncode, "killed": killed, "peak_mb": peak, "log": text[-6000:]}

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
            result.detail = (f"the driver stopped the grading {BACKSTOP_GRACE_S:.0f} s after the "
                             f"{self.limits.wall_s:.0f} s limit; no test result was kept")
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
            result.detail = (f"nbgrader autograde failed ({_last_error(log)}); previous grades, if any, "
                             "are kept")
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
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(graded), str(target))

    def cancel(self) -> None:
        self.cancelled = True


def _last_error(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "ERROR" in line:
            return line[:200]
    return lines[-1][:200] if lines else "no output"


# A watchdog event's reason -> (status, detail for the notes).
_EVENTS = {
    "memory": ("memory", "the kernel went over the memory limit{where}"),
    "timeout": ("timeout", "the submission reached its time limit{where}"),
    "died": ("kernel-died", "the kernel died{where}"),
    "unresponsive": ("timeout", "{cell} ran past the per-cell limit and ignored the interrupt"),
}


def classify(result: Result, check: Check, runs: list[dict]) -> None:
    """The status of a submission that nbgrader graded to the end (see STATUSES), with its detail."""
    details: list[str] = []
    statuses: list[str] = []
    for run in runs:
        for event in run.get("events", []):
            reason, cell = event.get("reason"), event.get("cell")
            where = (f" in {cell}" if cell != "replay" else " while re-running the cells") if cell else ""
            if reason in _EVENTS:
                status, text = _EVENTS[reason]
                statuses.append(status)
                details.append(text.format(where=where, cell=cell))
        stuck = {e.get("cell") for e in run.get("events", []) if e.get("reason") == "unresponsive"}
        timeouts = [c for c in run.get("cell_timeouts", []) if c not in stuck]
        if timeouts:
            statuses.append("timeout")
            details.append(f"over the per-cell time limit: {', '.join(sorted(set(timeouts)))}")
        if run.get("restarts"):
            details.append(f"kernel restarted {run['restarts']} time(s); the cells after the failure were "
                           "graded")
        if run.get("stopped"):
            details.append(f"grading stopped at {run.get('stopped_at') or 'the start'}: later tests scored 0")
        if run.get("guard") == "unavailable":
            result.notes.append("the kernel guard did not load: tricks against the tests were not checked")
        for error in run.get("errors", []):
            if error["kind"] == "setup" or error["ename"] in ("ImportError", "ModuleNotFoundError"):
                statuses.append("import-error")
                details.append(f"{error['cell']} raised {error['ename']}: {error['evalue']}")
    if check.invalid:
        statuses.append("invalid-notebook")
        details += [f"{name}.ipynb is not a readable notebook ({why}): 0 points" for name, why in
                    check.invalid.items()]
    if check.missing:
        statuses.append("missing-notebook")
        details.append(f"missing: {', '.join(n + '.ipynb' for n in check.missing)} (0 points)")
    if check.edited or check.deleted:
        statuses.append("restored-tests")
    if result.flags:
        statuses.append("suspicious")
    statuses.append("ok")
    result.status = min(statuses, key=STATUSES.index)
    seen: list[str] = []
    for text in details:
        if text not in seen:
            seen.append(text)
    result.detail = "; ".join(seen)


# ----------------------------------------------------------------------------------------------- output


class Progress:
    """A progress bar on a terminal, one line per finished submission otherwise."""

    def __init__(self, total: int, enabled: bool, stream=None) -> None:
        self.total, self.enabled, self.done, self.started = total, enabled, 0, time.perf_counter()
        self.stream = stream or sys.stdout
        self.tty = enabled and self.stream.isatty()
        self.lock = threading.Lock()

    def update(self, result: Result) -> None:
        if not self.enabled:
            return
        with self.lock:
            self.done += 1
            elapsed = time.perf_counter() - self.started
            if self.tty:
                width = 30
                filled = int(width * self.done / max(1, self.total))
                bar = "#" * filled + "." * (width - filled)
                self.stream.write(f"\r[{bar}] {self.done}/{self.total} graded, "
                                  f"{elapsed:5.0f} s, last: {result.student} {result.status}\x1b[K")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"[{self.done:>{len(str(self.total))}}/{self.total}] {result.student}: "
                                  f"{result.score:g}/{result.max_score:g} in {result.seconds:.1f} s, "
                                  f"{result.status} ({elapsed:.0f} s elapsed)\n")
            self.stream.flush()


def summary_table(results: list[Result]) -> str:
    width = max([7] + [len(r.student) for r in results])
    header = f"{'student':<{width}}  {'score':>6} {'max':>5} {'time':>7} {'peak MB':>8}  {'status':<16} notes"
    lines = [header,
             "-" * (width + 70)]
    for r in results:
        parts = [f"{len(r.flags)} suspicious finding(s)"] if r.flags else []
        notes = "; ".join(parts + ([r.detail] if r.detail else []))
        lines.append(f"{r.student:<{width}}  {r.score:>6.1f} {r.max_score:>5.1f} {r.seconds:>6.1f}s "
                     f"{r.peak_mb:>8.0f}  {r.status:<16} {notes[:90]}")
    return "\n".join(lines)


def details_text(results: list[Result]) -> str:
    out = []
    for r in results:
        if not (r.detail or r.flags or r.notes):
            continue
        out.append(f"{r.student} ({r.status}):")
        if r.detail:
            out.append(f"  {r.detail}")
        out += [f"  suspicious: {flag}" for flag in r.flags]
        out += [f"  note: {note}" for note in r.notes]
    return "\n".join(out)


def write_report(assignment: str, root: Path, results: list[Result], limits: Limits) -> Path:
    """reports/<assignment>.json: the latest result of every student (a partial run updates its students)."""
    folder = root / "reports"
    folder.mkdir(exist_ok=True)
    path = folder / f"{assignment}.json"
    entries: dict[str, dict] = {}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        entries = {r["student"]: r for r in json.loads(path.read_text())["results"]}
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for r in results:
        entries[r.student] = {**asdict(r), "log": r.log[-1500:], "graded": stamp, "limits": asdict(limits)}
    data = {"assignment": assignment, "date": stamp, "results": [entries[k] for k in sorted(entries)]}
    path.write_text(json.dumps(data, indent=1))
    return path


# ----------------------------------------------------------------------------------------------- entry points


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def grade(assignment: str, root: Path = HERE, jobs: int | None = None, feedback: bool = True, *,
          limits: Limits | None = None, only: Iterable[str] | None = None, source: Path | None = None,
          progress: bool = False) -> list[Result]:
    """Autograde every submission of `assignment` under root/submitted (or the students in `only`).

    Returns one Result per student, in name order. See the module docstring for what happens.
    """
    root = root.resolve()
    limits = limits or Limits()
    source = (source or SOLUTIONS).resolve()
    backup_gradebook(root)
    generate(assignment, root / "release", db_url=db_url(root), source=source)
    names = students(assignment, root)
    if only is not None:
        wanted = set(only)
        names = [n for n in names if n in wanted]
    grader = Grader(assignment, root, limits, source)
    grader.prepare()
    jobs = max(1, jobs or default_jobs())
    bar = Progress(len(names), progress)
    if progress:
        per_cell = f"{limits.cell_timeout_s} s" if limits.cell_timeout_s else "nbgrader_config.py's timeout"
        print(f"Grading {len(names)} submission(s) of {assignment} with {jobs} worker(s): "
              f"{limits.wall_s:.0f} s and {limits.memory_mb:.0f} MB per submission, {per_cell} per cell",
              flush=True)
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
    if feedback and names:
        if only is None:
            nbgrader("generate_feedback", assignment, "--force", *course_args(root))
        else:
            for name in names:
                nbgrader("generate_feedback", assignment, "--force", f"--student={name}", *course_args(root))
        nbgrader("export", f"--to={root / 'grades.csv'}", *course_args(root))
    with contextlib.suppress(OSError):
        shutil.rmtree(grader.work)
        (root / ".work").rmdir()
    write_report(assignment, root, ordered, limits)
    return ordered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=HERE,
                        help="course folder holding submitted/ (default: autograder/)")
    parser.add_argument("--jobs", type=int, default=None, help="parallel workers (default: one per core)")
    parser.add_argument("--student", action="append", help="grade only this student (repeat for several)")
    parser.add_argument("--wall", type=float, default=DEFAULT_WALL_S,
                        help="seconds per submission (default %(default)s)")
    parser.add_argument("--memory", type=float, default=DEFAULT_MEMORY_MB,
                        help="MB for a submission's kernel process tree (default %(default)s)")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds per cell (default: nbgrader_config.py's)")
    parser.add_argument("--source", type=Path, default=None, help="nbgrader's source (default: solutions/)")
    parser.add_argument("--no-feedback", action="store_true", help="skip feedback HTML and the CSV")
    parser.add_argument("--feedback-only", action="store_true", help="only write the feedback and the CSV")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.feedback_only:
        done = nbgrader("generate_feedback", args.assignment, "--force", *course_args(root))
        print(done.stdout + done.stderr)
        exported = nbgrader("export", f"--to={root / 'grades.csv'}", *course_args(root))
        return done.returncode or exported.returncode
    if not students(args.assignment, root):
        print(f"no submissions of {args.assignment} under {root / 'submitted'}/<student>/{args.assignment}/")
        return 1
    limits = Limits(wall_s=args.wall, memory_mb=args.memory, cell_timeout_s=args.cell_timeout)
    try:
        results = grade(args.assignment, root, args.jobs, feedback=not args.no_feedback, limits=limits,
                        only=args.student, source=args.source, progress=True)
    except KeyboardInterrupt:
        print("\ncancelled: the gradebook holds the students graded so far (a backup was taken first)")
        return 130
    print()
    print(summary_table(results))
    details = details_text(results)
    if details:
        print("\n" + details)
    print(f"\nfeedback: {root / 'feedback'}/<student>/{args.assignment}/   grades: {root / 'grades.csv'}   "
          f"report: {root / 'reports' / (args.assignment + '.json')}")
    return 1 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
