"""One submission's grading, as a unit that can run anywhere the course's environment is installed.

``grade_unit(job)`` is a plain top-level function of one picklable ``Job``: the submission's files as bytes
(not a path on a shared disk), the assignment's notebook information, a copy of the gradebook and the
non-notebook files of nbgrader's source. It grades in a private staging folder of its own, with the sandbox
and the limits of the local grader, and returns an ``Outcome``: the Result (status, notes, flags, log, peak
memory, where it ran), the staging gradebook holding the new grades, the autograded files and, when the job
asks for it (on Dask), the feedback (nbgrader generate_feedback's HTML, hidden tests left out by
autograder/feedback.py). It writes
nothing outside its staging folder, which it removes: only the coordinator (autograder/grade.py) writes the
gradebook, the reports and the feedback folder. Locally the grader calls it in a thread; on Dask
(autograder/cluster.py) a worker runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat
import psutil

from autograder import sandbox
from autograder.checks import Check, NotebookInfo, check_submission, classify
from autograder.gradebook import course_args
from autograder.outcome import BACKSTOP_EXTRA_MB, BACKSTOP_GRACE_S, TOKEN_ENV, Limits, Result
from autograder.preprocessors import kill_tree
from autograder.release import HERE, REPO, SOLUTIONS, nbgrader

# Set by the local grader on Ctrl-C: every running unit of this process kills its nbgrader and stops.
CANCEL = threading.Event()


@dataclass
class Job:
    """What a unit needs to grade one submission; everything in it is bytes or plain data (picklable)."""

    assignment: str
    student: str
    files: dict[str, bytes]  # the submission's files, by path relative to its folder
    info: dict[str, NotebookInfo]
    gradebook: bytes  # a copy of the course's gradebook.db (it holds the assignment and its test cells)
    source_files: dict[str, bytes]  # nbgrader's source of the assignment: its non-notebook files
    limits: Limits
    box: sandbox.Decision
    max_score: float = 0.0
    work: str = ""  # the folder to stage in ("" = a temporary folder of the machine that runs the unit)
    protect: list[str] = field(default_factory=list)  # the coordinator's private folders (for the guard)
    readonly: list[str] = field(default_factory=list)  # and those the guard keeps read-only
    sandbox_mode: str = ""  # on another machine: the mode to decide there (box is then this machine's)
    feedback: bool = False  # also write the student's feedback HTML (nbgrader generate_feedback) and return it


@dataclass
class Outcome:
    """What a unit returns: the Result, and what the coordinator must write (action: merge, zero or keep)."""

    result: Result
    action: str = "keep"  # merge: the grades in `gradebook`; zero: a zero for the student; keep: nothing
    gradebook: bytes = b""
    autograded: dict[str, bytes] = field(default_factory=dict)
    feedback: dict[str, bytes] = field(default_factory=dict)  # feedback/<student>/<assignment>/, by relative path
    feedback_error: str = ""  # why generate_feedback wrote nothing for a graded submission ("" when it did)
    where: str = "local"


_DECISIONS: dict[str, sandbox.Decision] = {}


def _decide(mode: str) -> sandbox.Decision:
    """This machine's sandbox under `mode`, probed once per process."""
    if mode not in _DECISIONS:
        _DECISIONS[mode] = sandbox.decide(mode)
    return _DECISIONS[mode]


def where_am_i() -> str:
    """The address of the Dask worker running this code, or "local"."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def read_folder(folder: Path) -> dict[str, bytes]:
    """A submission folder's regular files as bytes (links, special files and checkpoints are left out)."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in rel.parts:
            continue
        out[rel.as_posix()] = path.read_bytes()
    return out


def write_files(files: dict[str, bytes], folder: Path) -> None:
    """Write `files` under `folder`; a path that is absolute or climbs out of it is a ValueError."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"a file path in the job leaves its folder: {name!r}; send paths relative to it")
        target = folder.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def grade_unit(job: Job) -> Outcome:
    """Grade one submission in a private staging folder; see the module docstring."""
    started = time.perf_counter()
    base = Path(job.work) if job.work else Path(tempfile.mkdtemp(prefix="losslab-grade-"))
    stage = base / job.student
    shutil.rmtree(stage, ignore_errors=True)
    result = Result(job.student, max_score=job.max_score)
    outcome = Outcome(result, where=where_am_i())
    if job.sandbox_mode:
        job.box = _decide(job.sandbox_mode)  # SandboxUnavailable (require) fails the unit with its reason
        if not job.box.active and job.sandbox_mode != "off":
            result.notes.append(f"on {outcome.where}: {job.box.line()}")
    try:
        _grade(job, stage, outcome)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(stage)
            if not job.work:
                base.rmdir()
    result.seconds = time.perf_counter() - started
    return outcome


def _grade(job: Job, stage: Path, outcome: Outcome) -> None:
    result = outcome.result
    incoming = stage / "incoming"
    write_files(job.files, incoming)
    check = check_submission(incoming, job.info)
    result.flags.extend(check.flags)
    result.notes.extend(check.notes)
    if check.others:
        result.notes.append(f"other notebooks in the folder, not graded: {', '.join(check.others)}")
    if check.edited:
        result.notes.append(f"edited test or read-only cells, restored by nbgrader: {', '.join(check.edited)}")
    if check.deleted:
        result.notes.append(f"deleted test cells, restored by nbgrader: {', '.join(check.deleted)}")
    _stage(job, incoming, stage, check)
    if not check.valid:
        _no_notebook(check, outcome)
        return
    run = _run_nbgrader(job, stage)
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
    if run["killed"] or run["returncode"] != 0:
        _failed_run(job, run, outcome)
        return
    graded = stage / "autograded" / job.student / job.assignment
    _drop_links(graded)
    outcome.autograded = read_folder(graded) if graded.is_dir() else {}
    outcome.gradebook = (stage / "gradebook.db").read_bytes()
    outcome.action = "merge"
    classify(result, check, runs)
    if job.feedback:
        _feedback(job, stage, outcome)


def _feedback(job: Job, stage: Path, outcome: Outcome) -> None:
    """nbgrader generate_feedback for this student in the staging course (outside the sandbox: it runs no
    learner code); the HTML and the files it copies come back in the Outcome, a failure as feedback_error."""
    done = nbgrader(
        "generate_feedback",
        job.assignment,
        f"--student={job.student}",
        "--force",
        *course_args(stage),
        f"--CourseDirectory.source_directory={stage / 'source'}",
    )
    folder = stage / "feedback" / job.student / job.assignment
    if done.returncode != 0 or not folder.is_dir():
        outcome.feedback_error = (
            f"nbgrader generate_feedback failed for {job.student}: {last_error(done.stdout + done.stderr)}"
        )
        return
    _drop_links(folder)
    outcome.feedback = read_folder(folder)


def _stage(job: Job, incoming: Path, stage: Path, check: Check) -> None:
    target = stage / "submitted" / job.student / job.assignment
    target.mkdir(parents=True)
    for path in sorted(incoming.rglob("*")):
        rel = path.relative_to(incoming)
        if path.is_symlink() or path.is_dir() or path.suffix == ".ipynb" or ".ipynb_checkpoints" in rel.parts:
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / rel)
    shutil.rmtree(incoming)
    for name, nb in list(check.valid.items()):
        try:
            nbformat.write(nb, str(target / f"{name}.ipynb"))
        except Exception as exc:  # noqa: BLE001 - read but not writable as a valid notebook
            del check.valid[name]
            check.invalid[name] = f"{type(exc).__name__}: {str(exc).strip()[:160]}"
    if check.valid:
        (stage / "gradebook.db").write_bytes(job.gradebook)
        write_files(job.source_files, stage / "source" / job.assignment)


def _no_notebook(check: Check, outcome: Outcome) -> None:
    result = outcome.result
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
    outcome.action = "zero"


def _failed_run(job: Job, run: dict, outcome: Outcome) -> None:
    result, log = outcome.result, run["log"]
    if run["killed"] == "timeout":
        result.status = "timeout"
        result.detail = (
            f"the driver stopped the grading {BACKSTOP_GRACE_S:.0f} s after the "
            f"{job.limits.wall_s:.0f} s limit; no test result was kept"
        )
    elif run["killed"] == "memory":
        result.status = "memory"
        ceiling = job.limits.memory_mb + BACKSTOP_EXTRA_MB
        result.detail = f"the driver stopped the grading above {ceiling:.0f} MB; no test result was kept"
    elif run["killed"] == "cancelled":
        result.status, result.detail = "error", "grading was cancelled"
        return
    elif any(word in log for word in ("NotJSONError", "ValidationError", "does not appear to be JSON")):
        result.status = "invalid-notebook"
        result.detail = "nbgrader could not read the notebook: " + last_error(log)
    else:
        result.status = "error"
        result.detail = f"nbgrader autograde failed ({last_error(log)}); previous grades, if any, are kept"
        return
    outcome.action = "zero"


# ----------------------------------------------------------------------------------------------- nbgrader


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


def _guard_paths(job: Job, stage: Path) -> tuple[list[str], list[str]]:
    protect = [*job.protect, str(SOLUTIONS), str(stage / "source"), str(stage)]
    # not the whole repository: on Binder it is the home folder, where Keras and matplotlib keep settings
    readonly = [str(REPO / name) for name in ("losslab", "autograder", "course", "tests", ".git")]
    readonly += [str(p) for p in REPO.iterdir() if p.is_file() and not p.name.startswith(".")]
    return protect, readonly + job.readonly


def _run_nbgrader(job: Job, stage: Path) -> dict:
    limits, student = job.limits, job.student
    token = uuid.uuid4().hex
    protect, readonly = _guard_paths(job, stage)
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
        job.assignment,
        f"--student={student}",
        "--force",
        *course_args(stage),
        f"--CourseDirectory.source_directory={stage / 'source'}",
        f"--GuardedExecute.deadline={begin + limits.wall_s:.3f}",
        f"--GuardedExecute.wall_limit={limits.wall_s}",
        f"--GuardedExecute.memory_limit_mb={limits.memory_mb}",
        f"--GuardedExecute.report_path={stage / 'report.jsonl'}",
    ]
    if limits.cell_timeout_s:
        args.append(f"--Execute.timeout={int(limits.cell_timeout_s)}")
    group: sandbox.Cgroup | None = None
    if job.box.active:
        group = sandbox.make_cgroup(token[:16], limits.memory_mb)
        guard_log = stage / "guard.jsonl"
        guard_log.touch()
        spec = sandbox.plan(job.box.bwrap, REPO, guard_log, group)
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
                if CANCEL.is_set():
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
                    _kill_all(proc.pid, token, begin)
                    returncode = proc.wait()
        finally:
            if returncode is None:  # this unit itself was interrupted: its nbgrader must not outlive it
                _kill_all(proc.pid, token, begin)
            for leftover in _token_processes(token, begin):  # e.g. a kernel orphaned by a crash
                kill_tree(leftover.pid)
            if group is not None:  # whatever is still in the submission's cgroup ends with its grading
                ended = group.remove()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    return {"returncode": returncode, "killed": killed, "peak_mb": peak, "log": text[-6000:], "ended": ended}


def _kill_all(pid: int, token: str, since: float) -> None:
    members = []
    with contextlib.suppress(psutil.Error):
        members = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for member in members + _token_processes(token, since):
        kill_tree(member.pid)


def _drop_links(folder: Path) -> None:
    """Remove symbolic links and special files a submission left in its folder: feedback copies the folder's
    files, and a link would copy whatever it points to (the gradebook, solutions/) into a student's feedback."""
    for path in sorted(folder.rglob("*"), reverse=True):
        with contextlib.suppress(OSError):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                path.unlink()


def last_error(log: str) -> str:
    """The last line of an nbgrader log that names an error (or its last line)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "ERROR" in line:
            return line[:200]
    return lines[-1][:200] if lines else "no output"
