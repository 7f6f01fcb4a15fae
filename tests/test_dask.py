"""Grading on Dask (autograder/unit.py, autograder/cluster.py): a local scheduler with two worker processes,
started and stopped here, on 127.0.0.1 only.

- the hostile class of tests/test_sandbox.py, graded through the cluster, gets exactly the grades, statuses
  and feedback of the local run (its session fixture, so the class is graded once locally);
- a worker killed in the middle of a submission: the submission is graded once more elsewhere, and the
  gradebook is intact with every student's grade.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from autograder.config import Limits
from autograder.coordinator import grade
from autograder.gradebook import database_ok, read_scores
from autograder.unit import Job, grade_unit, write_files
from tests.support import SOLUTIONS, build_submission
from tests.test_sandbox import _need_sandbox, run_hostile_class

WARMUP = SOLUTIONS / "00_warmup" / "warmup_exercise.ipynb"
LIMITS = Limits(wall_s=240, memory_mb=2000)


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The local run of tests/test_sandbox.py's hostile class (graded once per test process)."""
    return run_hostile_class(tmp_path_factory)


@pytest.fixture(scope="module")
def cluster():  # a distributed.LocalCluster
    """A scheduler and two single-threaded worker processes on 127.0.0.1, closed by the fixture."""
    from autograder.cluster import local_cluster

    local = local_cluster(2)
    try:
        yield local
    finally:
        local.close(timeout=60)


def _feedback(root: Path) -> dict[str, bytes]:
    folder = root / "feedback"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_unit_is_picklable_and_refuses_paths_outside_its_folder(tmp_path: Path) -> None:
    assert pickle.loads(pickle.dumps(grade_unit)) is grade_unit
    job = Job("a", "ann", {"x.txt": b"1"}, {}, b"", {}, LIMITS, None)  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(job)).files == {"x.txt": b"1"}
    for bad in ("../escape.txt", "/etc/passwd"):
        with pytest.raises(ValueError, match="leaves its folder"):
            write_files({bad: b"x"}, tmp_path / "in")
    assert not (tmp_path / "escape.txt").exists()


@pytest.mark.slow
@pytest.mark.system
@pytest.mark.xdist_group("sandbox")
@pytest.mark.timeout(1800)
def test_the_hostile_class_on_dask_is_graded_as_locally(hostile_run: dict, cluster, tmp_path: Path) -> None:
    local_root = hostile_run["root"]
    root = tmp_path / "class"
    shutil.copytree(local_root / "submitted", root / "submitted")
    run = grade("00_warmup", root=root, limits=LIMITS, sandbox_mode="require", dask=cluster.scheduler_address)
    workers = set(cluster.scheduler_info["workers"]) | {w.address for w in cluster.workers.values()}
    local = hostile_run["results"]
    assert sorted(r.student for r in run) == sorted(local)
    problems = []
    for r in run:
        mine = local[r.student]
        if (r.score, r.max_score, r.cells, r.status) != (mine.score, mine.max_score, mine.cells, mine.status):
            problems.append(
                f"{r.student}: Dask {r.score}/{r.max_score} {r.status} {r.cells} {r.detail}; "
                f"local {mine.score}/{mine.max_score} {mine.status} {mine.cells}"
            )
        if r.where not in workers or mine.where != "local":
            problems.append(f"{r.student} ran on {r.where}, not one of the workers {sorted(workers)}")
        if bool(r.flags) != bool(mine.flags):
            problems.append(f"{r.student}: flags on Dask {r.flags}, locally {mine.flags}")
    assert not problems, "\n".join(problems)
    assert not run.problems
    ours, theirs = _feedback(root), _feedback(local_root)
    assert ours.keys() == theirs.keys() and ours
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert database_ok(root / "gradebook.db")


def _grading_child(pids: dict[str, int]) -> tuple[str, int] | None:
    """(worker address, pid) of a worker that is running an nbgrader autograde, if any."""
    for address, pid in pids.items():
        try:
            for child in psutil.Process(pid).children(recursive=True):
                if "autograde" in " ".join(child.cmdline()):
                    return address, pid
        except psutil.Error:
            continue
    return None


@pytest.mark.slow
@pytest.mark.system
@pytest.mark.xdist_group("sandbox")
@pytest.mark.timeout(1500)
def test_a_worker_killed_mid_submission_is_retried_once(cluster, tmp_path: Path) -> None:
    _need_sandbox()
    root = tmp_path / "class"  # no release and no gradebook first: the grader records the assignment itself
    wrong = {"expected-initial-loss": "def expected_initial_loss(n_classes):\n    return 0.0"}
    for name, replace in {"ann": {}, "bob": wrong}.items():
        folder = root / "submitted" / name / "00_warmup"
        folder.mkdir(parents=True)
        nbformat.write(build_submission(WARMUP, replace), str(folder / WARMUP.name))
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
    out: dict = {}
    thread = threading.Thread(
        target=lambda: out.update(run=grade("00_warmup", root=root, limits=LIMITS, dask=cluster.scheduler_address)),
        daemon=True,
    )
    thread.start()
    deadline, victim = time.time() + 600, None
    while victim is None and time.time() < deadline and thread.is_alive():
        victim = _grading_child(pids)
        time.sleep(0.5)
    assert victim is not None, "no worker started grading within 10 minutes"
    time.sleep(5)  # in the middle of the submission
    address, pid = victim
    orphans = psutil.Process(pid).children(recursive=True)
    os.kill(pid, signal.SIGKILL)
    for child in orphans:  # the dead worker's nbgrader would end at its deadline; not in this test's time
        try:
            child.kill()
        except psutil.Error:
            pass
    thread.join(timeout=900)
    assert not thread.is_alive(), "grading did not finish"
    results = {r.student: r for r in out["run"]}
    assert database_ok(root / "gradebook.db")
    scores = read_scores("00_warmup", root)
    assert {name: scores[name].score for name in ("ann", "bob")} == {"ann": 5.0, "bob": 4.0}
    assert [r.status for r in results.values()] == ["ok", "ok"], [(r.status, r.detail) for r in results.values()]
    retried = [r for r in results.values() if any("worker was lost" in note for note in r.notes)]
    assert len(retried) == 1, [r.notes for r in results.values()]
    assert retried[0].where != address
    assert sorted((root / "feedback").glob("*/00_warmup/*.html"))
