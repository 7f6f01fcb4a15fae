"""One submission's unit (autograder/unit.py): what it reads back, and what it makes of the guard's log."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.config import CONFIG, Limits, thread_env
from autograder.records import Finding, NbgraderRun
from autograder.sandbox import Decision
from autograder.unit import Job, _guard_findings, _run_nbgrader, read_folder


def test_read_folder_keeps_the_total_within_a_limit_and_names_what_it_left(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a" * 1_000)
    (tmp_path / "b.bin").write_bytes(b"b" * 3_000_000)
    (tmp_path / "c.txt").write_bytes(b"c" * 1_000)
    skipped: list[str] = []
    files = read_folder(tmp_path, limit_mb=1.0, skipped=skipped)
    assert sorted(files) == ["a.txt", "c.txt"] and skipped == ["b.bin (3 MB)"]
    assert sorted(read_folder(tmp_path)) == ["a.txt", "b.bin", "c.txt"]  # no limit: everything


def test_read_folder_keeps_the_notebook_before_a_large_file_that_sorts_first(tmp_path: Path) -> None:
    """A submission's data file named before the notebook (huge.bin < probe.ipynb) must not crowd it out."""
    (tmp_path / "huge.bin").write_bytes(b"0" * 900_000)
    (tmp_path / "probe.ipynb").write_bytes(b"{}" * 100_000)
    (tmp_path / "a.txt").write_bytes(b"a" * 1_000)
    skipped: list[str] = []
    files = read_folder(tmp_path, limit_mb=1.0, skipped=skipped)
    assert sorted(files) == ["a.txt", "probe.ipynb"] and skipped == ["huge.bin (1 MB)"]


def test_a_garbled_guard_log_is_the_submissions_doing_a_flag(tmp_path: Path) -> None:
    """The guard's log is written from inside the kernel, so the submission can write into it too: a line that
    is not a finding is flagged, not taken for a failure of the grader."""
    log = tmp_path / "guard.jsonl"
    log.write_text(Finding("note", "restored math.pi").to_json() + "\n" + '{"kind": "flag", "ms\n' + "\n")
    findings = _guard_findings(log)
    assert findings[0] == Finding("note", "restored math.pi")
    assert findings[1].kind == "flag" and "wrote into the grader's guard log" in findings[1].msg
    assert _guard_findings(tmp_path / "none.jsonl") == []


def test_nbgrader_gets_the_limits_the_quiet_environment_and_the_kernels_thread_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {}

    def supervise(args: list[str], cwd: Path, env: dict[str, str], *rest: object, **named: object) -> NbgraderRun:
        seen.update(args=args, env=env, **named)
        return NbgraderRun(returncode=0)

    monkeypatch.setattr("autograder.unit.supervise", supervise)
    limits = Limits(wall_s=50, memory_mb=700, disk_mb=30, output_mb=5)
    job = Job("a", "ann", {}, {}, b"", {}, limits, Decision("off", False), thread_env=thread_env(4, 2))
    run = _run_nbgrader(job, tmp_path)
    assert run.returncode == 0
    for flag in ("memory_limit_mb=700", "disk_limit_mb=30", "output_limit_mb=5", "wall_limit=50"):
        assert any(a.endswith(flag) for a in seen["args"]), flag
    env = seen["env"]
    assert env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "2"
    assert all(env[key] == value for key, value in CONFIG.kernel_env)  # quiet, and tf.data untuned
    assert env[CONFIG.token_env]
    assert seen["memory_cgroup"] == ""  # no sandbox, no cgroup: the backstop sums the tree's PSS


def _grade_with(run: NbgraderRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """grade_unit with a readable submission whose nbgrader run ends as `run`."""
    import nbformat

    from autograder.checks import Check
    from autograder.unit import grade_unit

    monkeypatch.setattr("autograder.unit.check_submission", lambda *a: Check(valid={"a": nbformat.v4.new_notebook()}))
    monkeypatch.setattr("autograder.unit._stage", lambda *a: None)
    monkeypatch.setattr("autograder.unit._run_nbgrader", lambda job, stage: run)
    job = Job("a", "ann", {}, {}, b"", {}, Limits(), Decision("off", False), work=str(tmp_path))
    return grade_unit(job)


@pytest.mark.parametrize(
    "words",
    ["RuntimeError: Kernel died before replying to kernel_info", "RuntimeError: Kernel didn't respond in 60 seconds"],
)
def test_a_kernel_that_never_started_fails_the_unit_not_the_submission(
    words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor's one retry then grades it again (tests/test_autograder_executors.py holds the retry)."""
    from autograder.unit import KernelStartFailed

    with pytest.raises(KernelStartFailed, match="no cell of the submission ran"):
        _grade_with(NbgraderRun(returncode=1, log=f"[AutogradeApp | ERROR] ...\n{words}\n"), tmp_path, monkeypatch)


def test_a_kernel_that_dies_in_a_cell_or_a_limit_is_the_submissions_own_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    died = NbgraderRun(returncode=1, log="nbclient.exceptions.DeadKernelError: Kernel died\n")
    assert _grade_with(died, tmp_path, monkeypatch).result.status == "error"
    stopped = NbgraderRun(returncode=-9, killed="memory", log="Kernel died before replying to kernel_info\n")
    assert _grade_with(stopped, tmp_path, monkeypatch).result.status == "memory"
