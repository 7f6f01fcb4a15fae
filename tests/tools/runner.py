"""Running a notebook top to bottom in a fresh kernel while sampling its memory; the machine's description.

Shared by ``make bench`` (tests/tools/bench.py) and the grading bench (autograder/bench.py); imports neither, so
neither imports the other.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


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


def run_notebook(path: Path, timeout: int = 600, sample: bool = True, env: dict[str, str] | None = None) -> NotebookRun:
    """Execute `path` in a fresh kernel, with `env` added to this process's environment for it; with `sample`, its
    kernel's peak memory is sampled every 0.1 s beside it (a scan of this process's children, which costs some CPU:
    the grading bench's ceiling runs without)."""
    from nbclient import NotebookClient

    from losslab import notebooks

    nb = notebooks.read(path)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    peak, stop = [0.0], threading.Event()

    def sample_memory() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _kernel_tree_rss(before))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.perf_counter()
    if sample:
        sampler.start()
    error = ""
    try:
        client.execute(env={**os.environ, **(env or {})})
    except Exception as exc:  # a failed notebook is a result, not a crash of the bench
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
    finally:
        stop.set()
        if sample:
            sampler.join()
    return NotebookRun(str(path.relative_to(REPO)), time.perf_counter() - started, peak[0], not error, error)


def course_notebooks() -> list[Path]:
    """The start notebook, every tutorial (course/) and every exercise's solution edition (solutions/)."""
    course = REPO / "course"
    tutorials = [
        p
        for p in sorted(course.rglob("*.ipynb"))
        if not p.name.endswith("_exercise.ipynb")
        and ".ipynb_checkpoints" not in p.parts
        and p.relative_to(course).parts[0] != "ja"  # the Japanese edition runs the same code
    ]
    exercises = sorted((REPO / "solutions").glob("[0-9][0-9]_*/*_exercise.ipynb"))
    return tutorials + exercises


def machine() -> dict[str, str]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": platform.machine(),
        "cpus": str(len(os.sched_getaffinity(0))),
        "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "python": platform.python_version(),
    }
