"""tests/conftest.py's isolation: a test that leaves os.environ changed is undone and named, in a pytest of its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

LEAKY = """
import os


def test_a_leaks():
    os.environ["LOSSLAB_LEAK"] = "1"
    os.environ["HOME"] = "/nonexistent"
    os.environ.setdefault("KMP_INIT_AT_FORK", "FALSE")  # what scikit-learn does when imported


def test_b_sees_the_environment_as_it_was():
    assert "LOSSLAB_LEAK" not in os.environ and os.environ["HOME"] != "/nonexistent"
    assert os.environ.get("KMP_INIT_AT_FORK") == "FALSE"  # a library's import-time setting stays
"""


def test_a_leak_is_undone_and_named_and_a_librarys_own_setting_stays(tmp_path: Path) -> None:
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_leaky.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "2 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    assert "EnvironmentLeak" in done.stdout and "(HOME, LOSSLAB_LEAK)" in done.stdout, done.stdout[-3000:]
    assert "KMP_INIT_AT_FORK" not in done.stdout, done.stdout[-3000:]
