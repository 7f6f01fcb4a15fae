"""The instructor guide's Dask recipe, run the way an instructor runs it (docs/classroom.md, "Grading on a Dask
cluster"): `dask scheduler` and `dask worker` started as separate processes by the documented commands (on
127.0.0.1 and free ports here), then `python -m autograder.grade 00_warmup --dask tcp://...` on a small class.

Current distributed deserializes the task graph on the scheduler: a scheduler started without the project on its
path ends every submission `error` ("Error during deserialization of the task graph"). The recipe gives the
scheduler the project too; here every submission must be graded `ok` with the grades the class deserves.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.support import COURSE, REPO, SOLUTIONS, build_submission, load_variants

pytestmark = pytest.mark.slow
GUIDE = REPO / "docs" / "classroom.md"
WARMUP = SOLUTIONS / "00_warmup" / "warmup_exercise.ipynb"


def documented_commands() -> tuple[str, str]:
    """The scheduler's and the worker's command lines from the guide's recipe block (<!-- dask-recipe -->)."""
    text = GUIDE.read_text()
    block = text.split("<!-- dask-recipe -->", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    lines = [x.strip() for x in block.splitlines() if x.strip() and not x.strip().startswith("#")]
    scheduler = next(x for x in lines if " scheduler" in x)
    worker = next(x for x in lines if " worker" in x)
    return scheduler, worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _argv(line: str, port: int) -> tuple[dict[str, str], list[str]]:
    """A documented line as (environment assignments, argv) for this checkout, on 127.0.0.1 and `port`."""
    line = line.replace("$PWD", str(REPO)).replace("8786", str(port)).replace("scheduler-host", "127.0.0.1")
    words = shlex.split(line)
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    if words[0].startswith(".venv/bin/"):
        words[0] = str(Path(sys.prefix) / "bin" / words[0].removeprefix(".venv/bin/"))
    return env, words


def test_the_recipe_gives_the_scheduler_the_project() -> None:
    scheduler, worker = documented_commands()
    assert "PYTHONPATH=$PWD" in scheduler, scheduler
    assert "PYTHONPATH=$PWD" in worker, worker
    kube = (REPO / "docs" / "dask-workers.yaml").read_text()
    scheduler_spec = kube.split("name: scheduler", 1)[1].split("---", 1)[0]
    assert "PYTHONPATH" in scheduler_spec and "/home/jovyan" in scheduler_spec


def _stage(root: Path) -> None:
    """Three warm-up submissions: the solutions, the released notebook as fetched, a known-wrong bundle."""
    wrong = [v for v in load_variants("00_warmup") if v.bundle == "wrong-a"]
    replace: dict[str, str] = {}
    for variant in wrong:
        replace.update(variant.replace)
    class_ = {
        "sol": build_submission(WARMUP, {}),
        "blank": nbformat.read(COURSE / "00_warmup" / WARMUP.name, as_version=4),
        "wrong": build_submission(WARMUP, replace),
    }
    for student, nb in class_.items():
        folder = root / "submitted" / student / "00_warmup"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / WARMUP.name))


def _start(line: str, port: int, log: Path, extra: list[str]) -> subprocess.Popen:
    env_add, argv = _argv(line, port)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what the recipe gives
    env.update(env_add)
    return subprocess.Popen(
        [*argv, *extra], cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=30)


@pytest.mark.system
def test_grading_on_a_scheduler_and_workers_started_by_the_recipe(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from autograder.gradebook import read_scores

    scheduler_line, worker_line = documented_commands()
    port = _free_port()
    _stage(tmp_path)
    local = ["--host", "127.0.0.1"]
    scheduler = _start(scheduler_line, port, tmp_path / "scheduler.log", [*local, "--dashboard-address", "127.0.0.1:0"])
    worker = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert scheduler.poll() is None, (tmp_path / "scheduler.log").read_text()[-2000:]
            time.sleep(1)
        worker = _start(worker_line, port, tmp_path / "worker.log", [*local, "--dashboard-address", "127.0.0.1:0"])
        command = [sys.executable, "-m", "autograder.grade", "00_warmup", "--root", str(tmp_path),
                   "--dask", f"tcp://127.0.0.1:{port}"]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                _stop(proc)
    assert scheduler.poll() is not None and (worker is None or worker.poll() is not None)
    report = json.loads((tmp_path / "reports" / "00_warmup.json").read_text())
    text = json.dumps(report)
    assert "deserialization" not in text, text[:3000]
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    scores = read_scores("00_warmup", tmp_path)
    assert set(scores) == {"sol", "blank", "wrong"}
    assert scores["sol"].score == scores["sol"].max_score > 0
    assert scores["blank"].score < scores["wrong"].score < scores["sol"].score
