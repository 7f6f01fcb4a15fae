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
