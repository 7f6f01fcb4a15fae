"""The supervisor of the grader's processes (autograder/supervisor.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from autograder import supervisor
from autograder.config import CONFIG


def test_token_scan_finds_the_run_and_survives_psutils_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver's clean-up finds a grading run's processes by the token in their environment. psutil's
    process_iter shares a cache between the grader threads; a scan that raises from it is retried afresh instead
    of failing the student's finished grading (CI once lost a submission with an empty log)."""
    import time

    begin = time.time()
    mine = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, CONFIG.token_env: "run-a"}
    )
    other = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"], env={**os.environ, CONFIG.token_env: "run-b"}
    )
    try:
        time.sleep(0.3)
        real, calls = psutil.process_iter, []

        def flaky(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            calls.append(1)
            if len(calls) == 1:
                raise KeyError("pop from an empty set")
            return real(*args, **kwargs)

        flaky.cache_clear = real.cache_clear
        monkeypatch.setattr(psutil, "process_iter", flaky)
        found = supervisor.token_processes("run-a", begin)
        assert len(calls) == 2
        assert [p.pid for p in found] == [mine.pid]
        assert supervisor.token_processes("run-c", begin) == []
    finally:
        for proc in (mine, other):
            proc.kill()
            proc.wait()
