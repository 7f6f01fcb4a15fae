"""The grading sandbox (autograder/sandbox.py): a hostile class graded in ONE run with the sandbox on, the
fallback without bubblewrap, the memory cgroup, and the driver's reporting of feedback and export failures.

The hostile class (tests/fixtures/hostile.py) attacks from child processes, out of the kernel guard's reach:
wiping the gradebook and its backups, deleting classmates' submissions, rewriting the checks and the source
notebooks, reading the hidden tests from disk, opening a network connection, and leaving a detached process
behind. One session-scoped run is shared by the assertions below and by tests/test_dask.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder import cgroups, sandbox
from autograder.config import Limits
from autograder.coordinator import Run, grade, write_outputs
from autograder.grade import main
from autograder.gradebook import backup_gradebook, database_ok, db_url, read_scores
from autograder.records import Result
from autograder.release import generate
from tests.support import REPO, SOLUTIONS, build_submission

WARMUP = SOLUTIONS / "00_warmup" / "warmup_exercise.ipynb"
REQUIRED = os.environ.get("LOSSLAB_REQUIRE_SANDBOX") == "1"


def _hostile():
    spec = importlib.util.spec_from_file_location("hostile_class", REPO / "tests" / "fixtures" / "hostile.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _need_sandbox() -> None:
    box = sandbox.decide("auto")
    if not box.active:
        if REQUIRED:
            pytest.fail(f"{box.line()}; LOSSLAB_REQUIRE_SANDBOX=1 makes this a failure", pytrace=False)
        pytest.skip(box.line())


def tree_hashes(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders (bytecode caches aside), by path."""
    out = {}
    for folder in folders:
        paths = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _course_files() -> list[Path]:
    return [
        REPO / "losslab",
        REPO / "solutions",
        REPO / "course",
        REPO / "tests" / "fixtures",
        *sorted((REPO / "autograder").glob("*.py")),
        REPO / "autograder" / "POLICY.md",
    ]


def _marked(marker: str) -> list[int]:
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        if marker in " ".join(proc.info.get("cmdline") or []):
            out.append(proc.pid)
    return out


class _Listener(threading.Thread):
    """A TCP server on the host's loopback; counts the connections it accepts."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()


_HOSTILE: dict = {}


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return run_hostile_class(tmp_path_factory)


def run_hostile_class(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The hostile class graded locally, once per test process (tests/test_dask.py compares its Dask run)."""
    _need_sandbox()
    if not _HOSTILE:
        _HOSTILE.update(_grade_hostile_class(tmp_path_factory))
    return _HOSTILE


def _grade_hostile_class(tmp_path_factory: pytest.TempPathFactory) -> dict:
    module = _hostile()
    root = tmp_path_factory.mktemp("hostile")
    listener = _Listener()
    listener.start()
    students = module.students(listener.port)
    for student in students:
        folder = root / "submitted" / student.name / "00_warmup"
        folder.mkdir(parents=True)
        nbformat.write(build_submission(WARMUP, student.replace), str(folder / WARMUP.name))
    generate("00_warmup", root / "release", db_url=db_url(root))  # a gradebook, and a backup of it, to attack
    backup = backup_gradebook(root)
    course = _course_files()
    before = tree_hashes(*course, root / "submitted", root / "release", backup)
    # the cgroups this run makes (not those of another test's grading running beside it in the same parent)
    groups: list[cgroups.Cgroup] = []
    make = cgroups.make_cgroup

    def recorded(*args, **kwargs) -> cgroups.Cgroup:
        groups.append(make(*args, **kwargs))
        return groups[-1]

    cgroups.make_cgroup = recorded
    try:
        results = grade(
            "00_warmup", root=root, jobs=2, limits=Limits(wall_s=240, memory_mb=2000), sandbox_mode="require"
        )
    finally:
        cgroups.make_cgroup = make
        listener.stop.set()
    return {
        "root": root,
        "module": module,
        "students": students,
        "results": {r.student: r for r in results},
        "run": results,
        "before": before,
        "after": tree_hashes(*course, root / "submitted", root / "release", backup),
        "accepted": listener.accepted,
        "left": _marked(module.MARKER),
        "cgroups": [folder for group in groups for folder in group.folders],
    }


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_every_student_is_graded_as_in_a_class_without_attackers(hostile_run: dict) -> None:
    results, problems = hostile_run["results"], []
    assert hostile_run["run"].sandbox.active
    for student in hostile_run["students"]:
        r = results[student.name]
        who = f"{student.name} ({student.why})"
        if (r.score, r.max_score) != (student.score, 5.0):
            problems.append(
                f"{who}: {r.score}/{r.max_score}, expected {student.score}/5; cells {r.cells}; "
                f"{r.status} {r.detail}\n{r.log[-1200:]}"
            )
        for gid, points in student.cells.items():
            if r.cells.get(gid, (None,))[0] != points:
                problems.append(f"{who}: {gid} scored {r.cells.get(gid)}, expected {points}")
        expected = "suspicious" if student.flagged else "ok"
        if r.status != expected:
            problems.append(f"{who}: status {r.status}, expected {expected}; {r.detail}; flags {r.flags}")
        if student.flagged and not any("process" in flag for flag in r.flags):
            problems.append(f"{who}: the scan or the guard did not flag the child process: {r.flags}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_every_attack_reached_nothing(hostile_run: dict) -> None:
    root = hostile_run["root"]
    reports = {}
    for student in hostile_run["students"]:
        if not student.attack:
            continue
        nb = nbformat.read(str(root / "autograded" / student.name / "00_warmup" / WARMUP.name), as_version=4)
        text = "".join(
            o.get("text", "")
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if o.get("output_type") == "stream"
        )
        reports[student.attack] = text
    assert "detach: 1" in reports["detach"], f"the detaching child did not run: {reports['detach']!r}"
    for attack, text in reports.items():
        if attack == "detach":
            continue
        assert f"{attack}: 0" in text, f"{attack} reached something (or did not run): {text!r}"
    leak = root / "autograded" / "x-read-hidden-tests" / "00_warmup" / "leak.txt"
    assert leak.exists() and leak.read_text() == "", leak.read_text() if leak.exists() else "no leak.txt"
    assert hostile_run["accepted"] == 0, "a submission connected to the host's loopback"


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_the_class_the_gradebook_and_the_course_are_unchanged(hostile_run: dict) -> None:
    before, after = hostile_run["before"], hostile_run["after"]
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    assert not changed, f"changed, added or deleted: {changed[:20]}"
    root = hostile_run["root"]
    assert database_ok(root / "gradebook.db")
    scores = read_scores("00_warmup", root)
    assert sorted(scores) == sorted(s.name for s in hostile_run["students"])
    for student in hostile_run["students"]:
        assert scores[student.name].score == student.score, student.name
    assert (root / "grades.csv").exists() and not hostile_run["run"].problems
    report = json.loads((root / "reports" / "00_warmup.json").read_text())
    assert report["sandbox"].startswith("sandbox: on")


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_no_process_of_the_run_survives(hostile_run: dict) -> None:
    assert hostile_run["left"] == [], f"detached processes still running: {hostile_run['left']}"
    root = str(hostile_run["root"])
    left = []
    for proc in psutil.process_iter():
        try:
            if root in proc.environ().get("LOSSLAB_GUARD_LOG", ""):
                left.append(proc.pid)
        except psutil.Error:
            continue
    assert left == []
    assert hostile_run["cgroups"], "the run made no cgroup"
    assert [f for f in hostile_run["cgroups"] if Path(f).exists()] == [], "cgroups left behind"


# ----------------------------------------------------------------------------------------------- fallback


@pytest.mark.slow
def test_without_bubblewrap_grading_says_so_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "submitted" / "ann" / "00_warmup"
    folder.mkdir(parents=True)
    blank = {
        "expected-initial-loss": "def expected_initial_loss(n_classes):\n    return math.log(n_classes)",
        "build-model": "def build_model(n_features, n_classes):\n    raise NotImplementedError()",
    }
    nbformat.write(build_submission(WARMUP, blank), str(folder / WARMUP.name))
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: "")

    assert main(["00_warmup", "--root", str(tmp_path), "--sandbox", "require", "--no-feedback"]) == 2
    out = capsys.readouterr().out
    assert "SANDBOX=require" in out and "bwrap not found" in out and "nothing was graded" in out
    assert not (tmp_path / "gradebook.db").exists() and not (tmp_path / "reports").exists()

    assert main(["00_warmup", "--root", str(tmp_path), "--sandbox", "auto", "--no-feedback", "--jobs", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    unavailable = [i for i, line in enumerate(lines) if line.startswith("sandbox: UNAVAILABLE (bwrap not found")]
    grading = next(i for i, line in enumerate(lines) if line.startswith("Grading 1 submission"))
    assert len(unavailable) == 2 and unavailable[0] < grading < unavailable[1], "\n".join(lines)
    assert any(line.startswith("ann ") and " 2.0 " in line for line in lines), "\n".join(lines)


def test_sandbox_modes(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox.decide("off").line().startswith("sandbox: off")
    with pytest.raises(ValueError, match="auto, require, off"):
        sandbox.decide("maybe")
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: "/bin/false")
    box = sandbox.decide("auto")  # bwrap present but unable to make namespaces (a host that forbids them)
    assert not box.active and "bwrap cannot make namespaces here" in box.line()
    with pytest.raises(sandbox.SandboxUnavailable, match="SANDBOX=require"):
        sandbox.decide("require")


def test_without_cgroups_the_line_says_memory_is_only_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    _need_sandbox()
    monkeypatch.setattr(cgroups, "_own_cgroup", lambda controller: None)
    monkeypatch.setattr(cgroups, "_own_unified", lambda: None)
    box = sandbox.decide("auto")
    assert box.active and "no memory or pids cgroup could be made here" in box.line()
    assert "memory measured, not enforced" in box.line()
    assert cgroups.make_cgroup("x", 100).folders == []


def test_the_kernel_command_isolates_and_hides(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine_exercise.ipynb").write_text("{}")
    group = cgroups.Cgroup(["/sys/fs/cgroup/memory/x/losslab-a"])
    spec = sandbox.plan("/usr/bin/bwrap", REPO, tmp_path / "guard.jsonl", group)
    args = sandbox.command(spec, str(work), str(tmp_path / "rt"), ["python", "-m", "ipykernel_launcher"])
    joined = " ".join(args)
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--cap-drop ALL", "--setenv JPY_PARENT_PID 1"):
        assert flag in joined
    assert f"--ro-bind /dev/null {work / 'mine_exercise.ipynb'}" in joined
    assert f"--ro-bind {REPO / 'losslab'} " in joined and f"--bind {work} {work}" in joined
    bound = {args[i + 1] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")}
    for secret in (REPO, REPO / "solutions", REPO / "autograder", REPO / "tests", Path.home()):
        assert str(secret) not in bound, secret
    assert args[:2] == ["/bin/sh", "-c"] and "/sys/fs/cgroup/memory/x/losslab-a/cgroup.procs" in args[2]


def test_the_memory_cgroup_stops_a_hog(tmp_path: Path) -> None:
    _need_sandbox()
    group = cgroups.make_cgroup(f"test-{os.getpid()}", 100)
    if not group.memory:
        pytest.skip(group.note)
    try:
        spec = sandbox.plan(sandbox.find_bwrap(), REPO, tmp_path / "guard.jsonl", group)
        (tmp_path / "rt").mkdir()
        hog = "x = [bytearray(50_000_000) for _ in range(12)]; print('survived')"
        args = sandbox.command(spec, str(tmp_path), str(tmp_path / "rt"), [sys.executable, "-c", hog])
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert "survived" not in done.stdout and done.returncode != 0, (done.returncode, done.stderr[-500:])
        assert group.oom_kills() >= 1
    finally:
        group.remove()
    assert not Path(group.memory).exists()


# ----------------------------------------------------------------------------------------------- outputs


def _failing_nbgrader(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(["nbgrader", *args], 1, "", f"[{args[0]} | ERROR] the disk is full\n")


def test_feedback_and_export_failures_are_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """issue 14: grade.py ignored the exit codes of generate_feedback and export and said their files were
    written."""
    monkeypatch.setattr("autograder.coordinator.nbgrader", _failing_nbgrader)
    problems = write_outputs("a", tmp_path, ["ann"])
    assert [p.split(":")[0] for p in problems] == [
        "nbgrader generate_feedback failed for ann",
        "nbgrader export failed",
    ]
    assert all("the disk is full" in p for p in problems)

    (tmp_path / "submitted" / "ann" / "a").mkdir(parents=True)
    monkeypatch.setattr("autograder.grade.grade", lambda *a, **k: Run([], sandbox.decide("off"), problems))
    assert main(["a", "--root", str(tmp_path), "--sandbox", "off"]) == 1
    out = capsys.readouterr().out
    assert "NOT WRITTEN: nbgrader generate_feedback failed" in out and "grades: " not in out
    assert main(["a", "--root", str(tmp_path), "--feedback-only"]) == 1
    out = capsys.readouterr().out
    assert "NOT WRITTEN: nbgrader export failed" in out and "grades: " not in out


def test_the_unit_returns_its_feedback_and_the_coordinator_writes_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """issue 16: the unit runs generate_feedback for its student in its staging folder and returns the HTML; a
    failure comes back as feedback_error (one NOT WRITTEN line), never as files; only the coordinator writes
    feedback/ (and replaces the student's old feedback)."""
    from autograder.coordinator import Grader
    from autograder.records import Outcome
    from autograder.unit import Job, _feedback

    stage = tmp_path / "stage"
    job = Job("a", "ann", {}, {}, b"", {}, Limits(), sandbox.decide("off"))
    calls = []

    def fake_nbgrader(*args: str, **kwargs) -> subprocess.CompletedProcess:
        calls.append(args)
        folder = stage / "feedback" / "ann" / "a"
        folder.mkdir(parents=True)
        (folder / "a_exercise.html").write_text("<p>4 / 5</p>")
        (folder / "leak").symlink_to(REPO / "autograder" / "POLICY.md")
        return subprocess.CompletedProcess(["nbgrader", *args], 0, "", "")

    monkeypatch.setattr("autograder.unit.nbgrader", fake_nbgrader)
    outcome = Outcome(Result("ann"))
    _feedback(job, stage, outcome)
    assert calls[0][:3] == ("generate_feedback", "a", "--student=ann")
    assert f"--CourseDirectory.root={stage}" in calls[0]
    assert outcome.feedback == {"a_exercise.html": b"<p>4 / 5</p>"} and not outcome.feedback_error

    monkeypatch.setattr("autograder.unit.nbgrader", _failing_nbgrader)
    failed = Outcome(Result("ann"))
    _feedback(job, tmp_path / "other", failed)
    assert failed.feedback == {}
    assert failed.feedback_error.startswith("nbgrader generate_feedback failed for ann: ")
    assert "the disk is full" in failed.feedback_error

    root = tmp_path / "course"
    old = root / "feedback" / "ann" / "a" / "stale.html"
    old.parent.mkdir(parents=True)
    old.write_text("last week's")
    grader = Grader("a", root, Limits(), SOLUTIONS)
    monkeypatch.setattr("autograder.coordinator.record_zero", lambda *a, **k: None)
    monkeypatch.setattr("autograder.coordinator.read_scores", lambda *a, **k: {})
    grader._place_autograded("ann", {"a_exercise.ipynb": b"{}"}, outcome.feedback)
    assert sorted(p.name for p in old.parent.iterdir()) == ["a_exercise.html"]
    failed.action = "zero"
    result = grader.apply(failed)
    assert result.feedback_error == failed.feedback_error and not old.parent.exists()


def test_links_a_submission_leaves_are_dropped(tmp_path: Path) -> None:
    from autograder.unit import _drop_links

    (tmp_path / "sub").mkdir()
    (tmp_path / "kept.txt").write_text("mine")
    (tmp_path / "sub" / "leak").symlink_to(REPO / "autograder" / "POLICY.md")
    os.mkfifo(tmp_path / "pipe")
    _drop_links(tmp_path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.txt", "sub"]
