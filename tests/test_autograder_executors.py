"""Where the units run and the one retry rule (autograder/executors.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.config import Limits
from autograder.coordinator import Grader
from autograder.executors import LocalExecutor, run_units
from autograder.records import Outcome, Result
from autograder.sandbox import Decision
from autograder.unit import Job
from tests.support import SOLUTIONS


def _job(student: str, remote: bool = False) -> Job:
    return Job("00_warmup", student, {}, {}, b"", {}, Limits(), Decision("off", False))


def _grade_one(grader: Grader, student: str) -> Result:
    """`student` graded by the local executor through the coordinator's loop, as `make grade` does."""
    return run_units(LocalExecutor(1), grader, [student], lambda result: None)[student]


def test_a_driver_failure_is_retried_once_and_then_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error of the driver itself (not of the submission) gets a second try; a second failure is an "error"
    whose log holds the traceback, so an instructor (or CI) can see what broke."""
    grader = Grader("00_warmup", tmp_path, Limits(), SOLUTIONS)
    monkeypatch.setattr(
        grader,
        "job",
        lambda student, remote=False: Job("00_warmup", student, {}, {}, b"", {}, Limits(), Decision("off", False)),
    )
    calls = []

    def flaky(job: Job) -> Outcome:
        calls.append(job.student)
        if len(calls) == 1:
            raise OSError(12, "Cannot allocate memory")
        return Outcome(Result(job.student))

    monkeypatch.setattr("autograder.executors.grade_unit", flaky)
    result = _grade_one(grader, "ann")
    assert len(calls) == 2 and result.status == "ok"
    assert any("second try" in note and "Cannot allocate memory" in note for note in result.notes)

    def broken(job: Job) -> Outcome:
        calls.append(job.student)
        raise RuntimeError("the disk is full")

    calls.clear()
    monkeypatch.setattr("autograder.executors.grade_unit", broken)
    result = _grade_one(grader, "bob")
    assert len(calls) == 2 and result.status == "error"
    assert "the disk is full" in result.detail
    assert "Traceback" in result.log and "RuntimeError" in result.log


def test_a_failure_to_write_the_grades_is_retried_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The coordinator's own step (the gradebook merge) follows the same rule: one more try, then "error"."""
    grader = Grader("00_warmup", tmp_path, Limits(), SOLUTIONS)
    monkeypatch.setattr(
        grader,
        "job",
        lambda student, remote=False: Job("00_warmup", student, {}, {}, b"", {}, Limits(), Decision("off", False)),
    )
    monkeypatch.setattr("autograder.executors.grade_unit", lambda job: Outcome(Result(job.student), action="merge"))
    merges = []

    def locked(*args: object) -> None:
        merges.append(args)
        raise OSError("database is locked by formgrader")

    monkeypatch.setattr(grader, "apply", locked)
    result = _grade_one(grader, "cyd")
    assert len(merges) == 2 and result.status == "error" and "locked by formgrader" in result.detail
