"""The grading bench (autograder/bench.py): its class of submissions (the timed runs are `make bench`'s)."""

from __future__ import annotations

from pathlib import Path

from autograder.bench import _submit
from tests.support import SOLUTIONS


def test_the_bench_submits_the_solution_for_every_student(tmp_path: Path) -> None:
    _submit(tmp_path, "00_warmup", ["s00", "s01"])
    expected = sorted(p.name for p in (SOLUTIONS / "00_warmup").glob("*_exercise.ipynb"))
    for student in ("s00", "s01"):
        folder = tmp_path / "submitted" / student / "00_warmup"
        assert sorted(p.name for p in folder.iterdir()) == expected
        for name in expected:
            assert (folder / name).read_bytes() == (SOLUTIONS / "00_warmup" / name).read_bytes()


def test_the_machine_ceiling_runs_alone_then_at_once_with_the_graders_thread_limits(monkeypatch) -> None:
    """The ceiling's executions at once get the thread limits a grading kernel gets, the lone one the defaults;
    the environment is restored afterwards, and the ceiling is jobs x alone / at once from the medians."""
    import os
    import threading

    from autograder import bench
    from autograder.config import thread_env
    from losslab import tfdata

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    seen: list[str | None] = []
    lock = threading.Lock()

    def fake_execute(path: Path, env: dict[str, str]) -> float:
        with lock:
            assert env[tfdata.ENV] == "0"  # a grading kernel's environment, alone and at once
            seen.append(env.get("TF_NUM_INTRAOP_THREADS"))
            return 10.0 if len(seen) % 3 == 1 else 12.5  # per round: alone, then two at once

    monkeypatch.setattr(bench, "_execute", fake_execute)
    alone, together, ceiling = bench.machine_ceiling("00_warmup", 2, repeat=2)
    limited = thread_env(bench.default_jobs(), 2)["TF_NUM_INTRAOP_THREADS"]
    assert seen == [None, limited, limited, None, limited, limited]
    assert alone == [10.0, 10.0] and together == [12.5] * 4
    assert ceiling == 2 * 10.0 / 12.5
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ


def test_the_speed_up_alternates_its_order_per_round_and_sums_the_runs(monkeypatch) -> None:
    """ABBA: one worker then N, then N then one, so that a machine whose speed drifts charges the drift to both
    settings alike; the runs' seconds come back per setting, in the order they ran."""
    from autograder import bench
    from autograder.config import Limits

    calls: list[tuple[int, int]] = []

    def fake_grade(assignment, count, jobs, limits, feedback, box="off", dask=None):
        calls.append((count, jobs))
        return float(10 * len(calls) + jobs), [f"result {len(calls)}"]

    monkeypatch.setattr(bench, "_timed_grade", fake_grade)
    sequential, parallel, results = bench.speedup_rounds("00_warmup", 3, 2, Limits(), "off", rounds=3)
    assert calls == [(3, 1), (3, 2), (3, 2), (3, 1), (3, 1), (3, 2)]
    assert sequential == [11.0, 41.0, 51.0] and parallel == [22.0, 32.0, 62.0]
    assert results == [f"result {i}" for i in range(1, 7)]
