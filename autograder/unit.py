"""One submission's grading, as a unit that can run anywhere the course's environment is installed.

``grade_unit(job)`` is a plain top-level function of one picklable ``Job``: the submission's files as bytes
(not a path on a shared disk), the assignment's notebook information, a copy of the gradebook and the
non-notebook files of nbgrader's source. It grades in a private staging folder of its own, with the sandbox
and the limits of the local grader, and returns an ``Outcome``: the Result (status, notes, flags, log, peak
memory, where it ran), the staging gradebook holding the new grades, the autograded files and, when the job
asks for it (on Dask), the feedback (nbgrader generate_feedback's HTML, hidden tests left out by
autograder/feedback.py). It writes
nothing outside its staging folder, which it removes: only the coordinator (autograder/coordinator.py) writes the
gradebook, the reports and the feedback folder. Locally the grader calls it in a thread; on Dask
(autograder/cluster.py) a worker runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from autograder import cgroups, sandbox
from autograder.checks import (
    Check,
    NotebookInfo,
    check_submission,
    classify,
    failed_run,
    kernel_never_started,
    last_error,
    no_notebook,
)
from autograder.config import CONFIG, HERE, REPO, SOLUTIONS, Limits
from autograder.gradebook import course_args
from autograder.records import Finding, NbgraderRun, Outcome, RecordError, Result, RunReport
from autograder.release import nbgrader
from autograder.supervisor import supervise
from losslab.messages import LANGUAGES

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
    thread_env: dict[str, str] = field(default_factory=dict)  # each kernel's thread pools (config.thread_env)


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


def read_folder(folder: Path, limit_mb: float = 0.0, skipped: list[str] | None = None) -> dict[str, bytes]:
    """A folder's regular files as bytes (links, special files and checkpoints are left out); with `limit_mb`,
    the files that would take the total past it are left out too, and named in `skipped`. Notebooks are taken
    first, then the other files from the smallest: a data file the submission wrote never crowds out the graded
    notebook."""
    out: dict[str, bytes] = {}
    total = 0
    files = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or ".ipynb_checkpoints" in rel.parts:
            continue
        files.append((path.suffix != ".ipynb", path.stat().st_size, rel.as_posix(), path))
    for _, size, _, path in sorted(files):
        rel = path.relative_to(folder)
        if limit_mb and total + size > limit_mb * 1e6:
            if skipped is not None:
                skipped.append(f"{rel.as_posix()} ({size / 1e6:.0f} MB)")
            continue
        total += size
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


class KernelStartFailed(RuntimeError):
    """A notebook's kernel never answered (a loaded machine, a port taken): the grading failed before the
    submission's code ran. autograder/executors.py runs the unit once more, then reports an "error"."""


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
        outcome.action = no_notebook(result, check)
        return
    run = _run_nbgrader(job, stage)
    result.log = run.log
    result.peak_mb = run.peak_mb
    runs = RunReport.read_lines(stage / "report.jsonl", job.student)  # written by nbgrader: a bad line is an error
    for finding in [f for r in runs for f in r.findings] + _guard_findings(stage / "guard.jsonl"):
        text = f"run: {finding.msg}"
        bucket = result.flags if finding.kind == "flag" else result.notes
        if text not in bucket:
            bucket.append(text)
    if run.ended:
        result.notes.append(
            f"{len(run.ended)} process(es) of the submission were still running after its grading and were ended"
        )
    if runs:  # the kernel's own peak (the watchdog's), rather than the driver's view of the whole tree
        result.peak_mb = max(r.peak_mb for r in runs)
    if kernel_never_started(run):  # the unit failed, not the submission: the executor tries it once more
        raise KernelStartFailed(f"a kernel did not start ({last_error(run.log)}); no cell of the submission ran")
    if run.killed or run.returncode != 0:
        outcome.action = failed_run(result, run, job.limits)
        return
    graded = stage / "autograded" / job.student / job.assignment
    _drop_links(graded)
    skipped: list[str] = []
    outcome.autograded = read_folder(graded, job.limits.disk_mb, skipped) if graded.is_dir() else {}
    if skipped:
        result.notes.append(f"files over the {job.limits.disk_mb:.0f} MB limit left out: {', '.join(skipped)[:300]}")
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
        except Exception as exc:  # read but not writable as a valid notebook
            del check.valid[name]
            check.invalid[name] = f"{type(exc).__name__}: {str(exc).strip()[:160]}"
    if check.valid:
        (stage / "gradebook.db").write_bytes(job.gradebook)
        write_files(job.source_files, stage / "source" / job.assignment)


# ----------------------------------------------------------------------------------------------- nbgrader


def _nbgrader_env(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _guard_findings(path: Path) -> list[Finding]:
    """The kernel guard's log: written from inside the kernel, where the submission runs, so a line that is not
    a finding is the submission's doing: a flag, not a failure of the grader."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:1000]:
        if not line.strip():
            continue
        try:
            out.append(Finding.from_json(line, "guard"))
        except RecordError:
            out.append(Finding("flag", f"wrote into the grader's guard log: {line[:80]!r}"))
    return out


def _guard_paths(job: Job, stage: Path) -> tuple[list[str], list[str]]:
    protect = [*job.protect, str(SOLUTIONS), str(stage / "source"), str(stage)]
    # not the whole repository: on Binder it is the home folder, where Keras and matplotlib keep settings
    readonly = [str(REPO / name) for name in ("losslab", "autograder", "course", "tests", ".git")]
    readonly += [str(p) for p in REPO.iterdir() if p.is_file() and not p.name.startswith(".")]
    return protect, readonly + job.readonly


def submission_language(folder: Path) -> str:
    """The language of a staged submission's notebooks (``language`` metadata: ``ja`` for the Japanese edition's),
    so that the library speaks it in the grading kernel as in the learner's; "en" when none says otherwise."""
    for path in sorted(folder.glob("*.ipynb")):
        try:
            lang = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("language")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(lang, str) and lang in LANGUAGES:
            return lang
    return "en"


def _run_nbgrader(job: Job, stage: Path) -> NbgraderRun:
    limits, student = job.limits, job.student
    token = uuid.uuid4().hex
    protect, readonly = _guard_paths(job, stage)
    env = _nbgrader_env(
        {
            **dict(CONFIG.kernel_env),
            **job.thread_env,
            "LOSSLAB_LANG": submission_language(stage / "submitted" / student / job.assignment),
            CONFIG.token_env: token,
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
        f"--GuardedExecute.output_limit_mb={limits.output_mb}",
        f"--GuardedExecute.disk_limit_mb={limits.disk_mb}",
        f"--GuardedExecute.report_path={stage / 'report.jsonl'}",
    ]
    if limits.cell_timeout_s:
        args.append(f"--Execute.timeout={int(limits.cell_timeout_s)}")
    group: cgroups.Cgroup | None = None
    if job.box.active:
        group = cgroups.make_cgroup(token[:16], limits.memory_mb)
        guard_log = stage / "guard.jsonl"
        guard_log.touch()
        spec = sandbox.plan(job.box.bwrap, REPO, guard_log, group, limits.disk_mb)
        args.append(f"--GuardedExecute.sandbox={spec.write(stage / 'sandbox.json')}")
    run = NbgraderRun()
    try:
        # a kernel's own stdout and stderr (not its cells' outputs) go to the log: capped like the outputs
        run = supervise(
            args,
            HERE,
            env,
            stage / "nbgrader.log",
            token,
            limits.wall_s,
            limits.memory_mb,
            limits.output_mb,
            CANCEL.is_set,
            memory_cgroup=group.memory if group is not None else "",
        )
    finally:
        if group is not None:  # whatever is still in the submission's cgroup ends with its grading
            run.ended = group.remove()
    return run


def _drop_links(folder: Path) -> None:
    """Remove symbolic links and special files a submission left in its folder: feedback copies the folder's
    files, and a link would copy whatever it points to (the gradebook, solutions/) into a student's feedback."""
    for path in sorted(folder.rglob("*"), reverse=True):
        with contextlib.suppress(OSError):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                path.unlink()
