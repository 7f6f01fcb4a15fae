"""tests/tools/bench.py (``make bench``): the doctor's timing, and a non-zero exit that names every exceeded budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools import bench
from tests.tools.runner import NotebookRun


def _run(name: str, seconds: float, peak_mb: float = 500.0) -> NotebookRun:
    return NotebookRun(name, seconds, peak_mb, True)


def test_over_budget_names_each_exceeded_budget() -> None:
    runs = [_run("a.ipynb", 95.0), _run("b.ipynb", 10.0, peak_mb=1300.0)]
    over = bench.over_budget(runs, {"first_s": 12.0, "second_s": 3.0})
    assert any("a.ipynb" in line and "90 s" in line for line in over)
    assert any("b.ipynb" in line and "1200 MB" in line for line in over)
    assert any("training doctor" in line and "10 s" in line for line in over)
    assert bench.over_budget([_run("a.ipynb", 30.0)], {"first_s": 4.0}) == []


def test_the_course_total_is_reported_not_budgeted() -> None:
    runs = [_run(f"{i}.ipynb", 80.0) for i in range(5)]  # each fits; the total grows with the course
    assert bench.over_budget(runs) == []


@pytest.mark.parametrize(("seconds", "status"), [(25.0, 1), (2.0, 0)])
def test_make_bench_exits_non_zero_over_budget(monkeypatch, tmp_path: Path, capsys, seconds, status) -> None:
    monkeypatch.setattr(bench, "OUT", tmp_path)
    monkeypatch.setattr(bench, "bench_doctor", lambda: {"first_s": seconds, "second_s": seconds})
    assert bench.main(["doctor"]) == status
    out = capsys.readouterr().out
    assert ("OVER BUDGET: training doctor" in out) == bool(status)


@pytest.mark.slow
def test_doctor_seconds_returns_seconds() -> None:
    seconds = bench.doctor_seconds()
    assert isinstance(seconds, float) and seconds > 0
