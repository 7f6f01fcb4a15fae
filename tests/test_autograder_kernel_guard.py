"""The kernel guard (autograder/kernel_guard.py), loaded into a plain Python process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

# ----------------------------------------------------------------------------------------------- kernel guard

GUARD_SCRIPT = r"""
import json, os, sys
import numpy as np, math
from autograder import kernel_guard

guard = kernel_guard.install(None, log_path=sys.argv[1], protect=(sys.argv[2],), readonly=(sys.argv[3],))
out = {}

def attempt(name, action):
    try:
        action()
        out[name] = "allowed"
    except PermissionError:
        out[name] = "refused"

attempt("read secret", lambda: open(os.path.join(sys.argv[2], "answers.txt")).read())
attempt("read notebook", lambda: open("mine.ipynb").read())
attempt("read own file", lambda: open("data.csv").read())
attempt("write own file", lambda: open("out.txt", "w").write("x"))
attempt("write into the course", lambda: open(os.path.join(sys.argv[3], "new.txt"), "w").write("x"))
attempt("read the course", lambda: open(os.path.join(sys.argv[3], "readme.txt")).read())
attempt("open the gradebook",
        lambda: __import__("sqlite3").connect(os.path.join(sys.argv[3], "gradebook.db")))
attempt("link to the secret", lambda: os.symlink(sys.argv[2], "link"))
attempt("remove a course file", lambda: os.remove(os.path.join(sys.argv[3], "readme.txt")))
np.allclose = lambda *a, **k: True
math.isclose = lambda *a, **k: True
sys.modules["losslab.grading"] = object()
report = json.loads(kernel_guard.restore("n0"))
out["restored"] = not np.allclose([1.0], [2.0]) and not math.isclose(1, 2)
out["module back"] = type(sys.modules["losslab.grading"]).__name__
out["findings"] = [f["msg"] for f in report["findings"]]
out["nonce"] = report["nonce"]
print(json.dumps(out))
"""


def test_kernel_guard_refuses_course_files_and_restores_patches(tmp_path: Path) -> None:
    secret, course, work = tmp_path / "solutions", tmp_path / "course", tmp_path / "work"
    for folder in (secret, course, work):
        folder.mkdir()
    (secret / "answers.txt").write_text("b")
    (course / "readme.txt").write_text("hello")
    (work / "data.csv").write_text("1,2")
    (work / "mine.ipynb").write_text("{}")
    log = tmp_path / "guard.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", GUARD_SCRIPT, str(log), str(secret), str(course)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["read secret"] == out["read notebook"] == out["open the gradebook"] == "refused"
    for action in ("write into the course", "link to the secret", "remove a course file"):
        assert out[action] == "refused", action
    assert out["read own file"] == out["write own file"] == out["read the course"] == "allowed"
    assert out["restored"] is True and out["module back"] == "module" and out["nonce"] == "n0"
    findings = "\n".join(out["findings"])
    for text in (
        "read the course's private files",
        "read a notebook file",
        "the gradebook",
        "replaced numpy.allclose",
        "replaced math.isclose",
        "losslab.grading in sys.modules",
    ):
        assert text in findings, findings
    logged = [json.loads(line)["msg"] for line in log.read_text().splitlines()]
    assert set(out["findings"]) <= set(logged)
