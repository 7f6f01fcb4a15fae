"""``make bench``: wall time of every notebook and the peak memory of the kernel that ran it, then grading.

Each notebook runs top to bottom in a fresh kernel, as a learner's "Restart and Run All"; a sampler reads
the kernel process tree's resident memory every 0.1 s. Results print as a table and are written to
bench/notebooks.json, with the budgets from DESIGN.md beside them (90 s and 1.2 GB per notebook, 6 min for
the course). Exercises run in their solution edition (the learner's blank one stops at the first stub).

The grading section (autograder/bench.py: grading overhead, sequential against parallel grading) follows;
``python -m losslab.bench notebooks`` or ``... grading`` (``make bench SECTION=grading``) runs one alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench"
NOTEBOOK_BUDGET_S = 90
COURSE_BUDGET_S = 360
MEMORY_BUDGET_MB = 1200


@dataclass
class NotebookRun:
    notebook: str
    seconds: float
    peak_mb: float
    ok: bool
    error: str = ""


def _kernel_tree_rss(exclude: set[int]) -> float:
    total = 0
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid not in exclude:
                total += child.memory_info().rss
        except psutil.Error:
            continue
    return total / 1e6


def run_notebook(path: Path, timeout: int = 600) -> NotebookRun:
    from nbclient import NotebookClient

    from losslab import notebooks

    nb = notebooks.read(path)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _kernel_tree_rss(before))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    sampler.start()
    error = ""
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 - a failed notebook is a result, not a crash of the bench
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
    finally:
        stop.set()
        sampler.join()
    return NotebookRun(str(path.relative_to(REPO)), time.perf_counter() - started, peak[0], not error, error)


def course_notebooks() -> list[Path]:
    """The start notebook, every tutorial (course/) and every exercise's solution edition (solutions/)."""
    course = REPO / "course"
    tutorials = [p for p in sorted(course.rglob("*.ipynb")) if not p.name.endswith("_exercise.ipynb")
                 and ".ipynb_checkpoints" not in p.parts]
    exercises = sorted((REPO / "solutions").glob("[0-9][0-9]_*/*_exercise.ipynb"))
    return tutorials + exercises


def machine() -> dict[str, str]:
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.machine(),
            "cpus": str(len(os.sched_getaffinity(0))),
            "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
            "python": platform.python_version()}


def bench_notebooks() -> list[NotebookRun]:
    runs = []
    print(f"{'notebook':<58}{'seconds':>9}{'peak MB':>9}  status")
    for path in course_notebooks():
        run = run_notebook(path)
        runs.append(run)
        flags = []
        if run.seconds > NOTEBOOK_BUDGET_S:
            flags.append(f"over {NOTEBOOK_BUDGET_S} s")
        if run.peak_mb > MEMORY_BUDGET_MB:
            flags.append(f"over {MEMORY_BUDGET_MB} MB")
        status = "ok" if run.ok else f"FAILED {run.error}"
        print(f"{run.notebook:<58}{run.seconds:>9.1f}{run.peak_mb:>9.0f}  {status}"
              f"{' (' + ', '.join(flags) + ')' if flags else ''}", flush=True)
    total = sum(r.seconds for r in runs)
    print(f"{'whole course':<58}{total:>9.1f}{max((r.peak_mb for r in runs), default=0):>9.0f}  "
          f"budget {COURSE_BUDGET_S} s{' EXCEEDED' if total > COURSE_BUDGET_S else ''}")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loss Lab's bench: notebooks, then grading")
    parser.add_argument("section", nargs="?", choices=("all", "notebooks", "grading"), default="all")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    info = machine()
    print(f"Loss Lab bench, {info}")
    status = 0
    if args.section in ("all", "notebooks"):
        runs = bench_notebooks()
        (OUT / "notebooks.json").write_text(json.dumps({"machine": info, "runs": [asdict(r) for r in runs]},
                                                       indent=1))
        print(f"written {OUT / 'notebooks.json'}")
        status = 0 if all(r.ok for r in runs) else 1
    if args.section in ("all", "grading"):
        from autograder.bench import main as bench_grading  # the grading driver lives in the repository

        status = bench_grading([]) or status
    return status


if __name__ == "__main__":
    raise SystemExit(main())
