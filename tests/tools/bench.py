"""``make bench``: wall time of every notebook and the peak memory of the kernel that ran it, then grading.

Each notebook runs top to bottom in a fresh kernel, as a learner's "Restart and Run All"; a sampler reads
the kernel process tree's resident memory every 0.1 s (tests/tools/runner.py). Results print as a table and are
written to bench/notebooks.json, with the budgets of docs/design.md beside them (90 s and 1.2 GB per notebook;
the whole course's time is reported, not budgeted). Exercises run in their solution edition (the learner's
blank one stops at the first stub).

The grading section (``python -m autograder.bench``: grading overhead, sequential against parallel grading)
follows, as a separate process; ``python -m tests.tools.bench notebooks`` or ``... grading`` (``make bench
SECTION=grading``) runs one alone. The exit status is non-zero when anything failed or any budget was exceeded,
and the last lines say which.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.tools.runner import NotebookRun, course_notebooks, machine, run_notebook

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench"
NOTEBOOK_BUDGET_S = 90
MEMORY_BUDGET_MB = 1200


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
        print(
            f"{run.notebook:<58}{run.seconds:>9.1f}{run.peak_mb:>9.0f}  {status}"
            f"{' (' + ', '.join(flags) + ')' if flags else ''}",
            flush=True,
        )
    total = sum(r.seconds for r in runs)
    print(
        f"{'whole course':<58}{total:>9.1f}{max((r.peak_mb for r in runs), default=0):>9.0f}  "
        "reported, not a budget (it grows with the course)"
    )
    return runs


# ------------------------------------------------------------------------------------------ the training doctor
# Issue 6's budget: a quick examination of the digits MLP (every check, quick=True) takes under 10 s on 2 cores.

DOCTOR_BUDGET_S = 10.0
_DOCTOR_PROBE = """
import json
from tests.tools.bench import doctor_seconds
from tests.tools.bench import treatment_seconds
first, second = doctor_seconds(), doctor_seconds()
treat, verdict = treatment_seconds()
print(json.dumps({"first_s": first, "second_s": second, "treat_s": treat, "treat_verdict": verdict}))
"""
# Issue 26's budget, reported: a treatment (every prescription retrained) of a course model within 20 s.
TREAT_BUDGET_S = 20.0


def treatment_seconds() -> tuple[float, str]:
    """Seconds for ``report.treat()`` on the clinic's digits MLP at Adam's rate 1.0 (the examination excluded)."""
    from losslab import clinic

    report = clinic.lr_too_high(0).examine()
    started = time.perf_counter()
    treatment = report.treat()
    return time.perf_counter() - started, treatment.verdict


def doctor_seconds() -> float:
    """Seconds for a quick examination of the course's digits MLP (64-64-10, Adam, batch 32), every check."""
    from losslab import clinic, doctor

    setup = clinic.digits_baseline(0)
    started = time.perf_counter()
    doctor.examine(setup.model, setup.x, setup.y, validation_data=setup.validation_data, batch_size=32, epochs=10)
    return time.perf_counter() - started


def bench_doctor() -> dict:
    """``doctor_seconds()`` (a quick examination of the digits MLP) twice in a fresh process; the first compiles."""
    done = subprocess.run(
        [sys.executable, "-c", _DOCTOR_PROBE],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": _pythonpath()},
        timeout=600,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        result = {"error": tail[0][:300]}
    else:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    if "error" in result:
        print(f"\ntraining doctor: FAILED {result['error']}")
    else:
        verdict = "ok" if result["first_s"] <= DOCTOR_BUDGET_S else f"OVER {DOCTOR_BUDGET_S:.0f} s"
        print(
            f"\ntraining doctor, quick examination of the digits MLP: {result['first_s']:.1f} s "
            f"(again: {result['second_s']:.1f} s), {verdict}"
        )
        if "treat_s" in result:
            print(
                f"training doctor, treatment of the digits MLP at Adam 1.0: {result['treat_s']:.1f} s "
                f"(verdict {result['treat_verdict']}), budget {TREAT_BUDGET_S:.0f} s"
            )
    return result


# ------------------------------------------------------------------------------------ JupyterLab's own memory
# Binder ends a session above 2 GB, counting JupyterLab's server and every kernel. The notebooks' kernel peaks
# above are one part of that sum; this section measures the other the way a learner meets it: a JupyterLab
# server (tests/tools/labserver.py, serving a copy of the course) with the start notebook open in Chromium and run.

BINDER_MEMORY_MB = 2000


@dataclass
class LabFootprint:
    server_idle_mb: float  # the server alone, before any page opened
    server_open_mb: float  # with the start notebook's page loaded and its kernel started
    server_peak_mb: float  # the server's peak while the notebook ran top to bottom in the browser
    kernel_peak_mb: float  # that notebook's kernel, for comparison with the headless run
    seconds: float
    error: str = ""


def bench_jupyterlab() -> LabFootprint | None:
    """Start JupyterLab, open and run the start notebook in headless Chromium, sample the server's memory."""
    import tempfile

    from tests.tools import labserver

    missing = labserver.chromium_missing()
    if missing:
        print(f"JupyterLab footprint: skipped ({missing})")
        return None
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="losslab-bench-") as tmp,
        labserver.LabServer.start(Path(tmp) / "lab") as lab,
        sync_playwright() as playwright,
    ):
        time.sleep(2)  # let the server finish loading its extensions
        idle = lab.rss_mb()[0]
        peaks, stop = [0.0, 0.0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                server, kernels = lab.rss_mb()
                peaks[0], peaks[1] = max(peaks[0], server), max(peaks[1], kernels)
                stop.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        context = labserver.launch_chromium(playwright, Path(tmp) / "chromium")
        error, opened = "", 0.0
        try:
            page = context.new_page()
            notebook = labserver.NotebookPage.open(page, lab, labserver.START_NOTEBOOK)
            opened = lab.rss_mb()[0]
            sampler.start()
            notebook.run_all(timeout_ms=300_000)
        except Exception as exc:  # a failed measurement is reported, not a crash of the bench
            first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            error = f"{type(exc).__name__}: {first_line}"
        finally:
            stop.set()
            if sampler.is_alive():
                sampler.join()
            context.close()
    return LabFootprint(idle, opened, max(peaks[0], opened), peaks[1], time.perf_counter() - started, error)


def report_jupyterlab(footprint: LabFootprint | None, runs: list[NotebookRun]) -> None:
    """Print JupyterLab's footprint, then each notebook's kernel peak beside it against Binder's 2 GB."""
    if footprint is None:
        return
    status = f"FAILED {footprint.error}" if footprint.error else "ok"
    print(
        f"\nJupyterLab server: {footprint.server_idle_mb:.0f} MB idle, "
        f"{footprint.server_open_mb:.0f} MB with 00_start_here.ipynb open, "
        f"{footprint.server_peak_mb:.0f} MB peak while it ran in Chromium "
        f"(its kernel: {footprint.kernel_peak_mb:.0f} MB peak), {footprint.seconds:.0f} s, {status}"
    )
    print(f"{'notebook':<58}{'kernel':>9}{'+ lab':>9}{'total':>9}  Binder {BINDER_MEMORY_MB} MB")
    lab = footprint.server_peak_mb
    for run in runs:
        total = run.peak_mb + lab
        verdict = "fits" if total < BINDER_MEMORY_MB and run.peak_mb < MEMORY_BUDGET_MB else "OVER"
        print(f"{run.notebook:<58}{run.peak_mb:>9.0f}{lab:>9.0f}{total:>9.0f}  {verdict}")


def _pythonpath() -> str:
    return os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)


def over_budget(
    runs: list[NotebookRun], doctor: dict | None = None, footprint: LabFootprint | None = None
) -> list[str]:
    """Every budget a measurement exceeded, one line each (empty when all fit)."""
    over = []
    for run in runs:
        if run.seconds > NOTEBOOK_BUDGET_S:
            over.append(f"{run.notebook}: {run.seconds:.1f} s, over the {NOTEBOOK_BUDGET_S} s notebook budget")
        if run.peak_mb > MEMORY_BUDGET_MB:
            over.append(f"{run.notebook}: kernel peak {run.peak_mb:.0f} MB, over the {MEMORY_BUDGET_MB} MB budget")
    if doctor and "first_s" in doctor and doctor["first_s"] > DOCTOR_BUDGET_S:
        over.append(f"training doctor: {doctor['first_s']:.1f} s, over its {DOCTOR_BUDGET_S:.0f} s budget")
    if footprint is not None and not footprint.error:
        for run in runs:
            if run.peak_mb + footprint.server_peak_mb >= BINDER_MEMORY_MB:
                over.append(
                    f"{run.notebook}: kernel {run.peak_mb:.0f} MB + JupyterLab "
                    f"{footprint.server_peak_mb:.0f} MB, over Binder's {BINDER_MEMORY_MB} MB"
                )
    return over


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections; 1 when a run failed or a budget was exceeded (each one printed), else 0."""
    parser = argparse.ArgumentParser(description="Loss Lab's bench: notebooks, JupyterLab's footprint, grading")
    parser.add_argument("section", nargs="?", choices=("all", "notebooks", "doctor", "lab", "grading"), default="all")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    info = machine()
    print(f"Loss Lab bench, {info}")
    failed: list[str] = []
    runs: list[NotebookRun] = []
    doctor: dict | None = None
    footprint: LabFootprint | None = None
    if args.section in ("all", "notebooks"):
        runs = bench_notebooks()
        (OUT / "notebooks.json").write_text(json.dumps({"machine": info, "runs": [asdict(r) for r in runs]}, indent=1))
        print(f"written {OUT / 'notebooks.json'}")
        failed += [f"{r.notebook} failed: {r.error}" for r in runs if not r.ok]
    if args.section in ("all", "doctor"):
        doctor = bench_doctor()
        (OUT / "doctor.json").write_text(json.dumps({"machine": info, **doctor}, indent=1))
        if "error" in doctor:
            failed.append(f"training doctor failed: {doctor['error']}")
    if args.section in ("all", "lab"):
        footprint = bench_jupyterlab()
        report_jupyterlab(footprint, runs)
        if footprint is not None:
            payload = {"machine": info, "footprint": asdict(footprint)}
            (OUT / "jupyterlab.json").write_text(json.dumps(payload, indent=1))
            print(f"written {OUT / 'jupyterlab.json'}")
            if footprint.error:
                failed.append(f"JupyterLab footprint failed: {footprint.error}")
    if args.section in ("all", "grading"):
        # a separate process: the grading driver lives in autograder/, which this tool does not import
        done = subprocess.run(
            [sys.executable, "-m", "autograder.bench"],
            cwd=REPO,
            check=False,
            env={**os.environ, "PYTHONPATH": _pythonpath()},
        )
        if done.returncode != 0:
            failed.append(f"grading bench (python -m autograder.bench) exited {done.returncode}")
    over = over_budget(runs, doctor, footprint)
    for line in failed + over:
        print(f"BENCH FAILED: {line}" if line in failed else f"OVER BUDGET: {line}")
    return 1 if failed or over else 0


if __name__ == "__main__":
    raise SystemExit(main())
