"""A JupyterHub with persistent homes: `start` copies the course into an empty home, and never over a learner's
work on later starts (losslab/homecourse.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from losslab import homecourse
from tests.support import REPO

START = REPO / "start"


def _start(home: Path, start: Path = START, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": str(REPO), **env}
    return subprocess.run([str(start), "true"], env=base, capture_output=True, text=True, timeout=120)


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts}


def test_start_copies_the_course_into_an_empty_home_then_keeps_the_learners_work(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first = _start(home, JUPYTERHUB_USER="learner")
    assert first.returncode == 0, first.stderr
    assert _files(home / "course") == _files(REPO / "course")
    assert "copied" in first.stdout

    # The learner works: edits the start notebook, writes a file of their own, deletes a tutorial.
    edited = home / "course" / "00_start_here.ipynb"
    edited.write_text('{"the learner": "wrote this"}', encoding="utf-8")
    own = home / "course" / "01_losses" / "my_notes.txt"
    own.write_text("mine", encoding="utf-8")
    deleted = next(p for p in sorted((home / "course").rglob("*_tutorial.ipynb")))
    deleted.unlink()

    second = _start(home, JUPYTERHUB_USER="learner")
    assert second.returncode == 0, second.stderr
    assert edited.read_text(encoding="utf-8") == '{"the learner": "wrote this"}', "start overwrote a learner's work"
    assert own.read_text(encoding="utf-8") == "mine"
    assert deleted.exists(), "a file the home lacks is added again (a notebook new to the course, or one deleted)"
    assert _files(home / "course") == _files(REPO / "course") | {own.relative_to(home / "course")}

    third = _start(home, JUPYTERHUB_USER="learner")
    assert third.returncode == 0 and "copied" not in third.stdout, "nothing left to copy: start says nothing"


def test_start_copies_nothing_outside_a_jupyterhub(tmp_path: Path) -> None:
    """`make lab` (and any run without JUPYTERHUB_USER) leaves the home folder alone."""
    done = _start(tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "course").exists()


def test_start_copies_nothing_when_the_repository_is_the_home(tmp_path: Path) -> None:
    """Binder: the checkout is the home folder, the course is already there."""
    home = tmp_path / "home"
    repo = home / "checkout"
    (repo / "course").mkdir(parents=True)
    (repo / "course" / "a.ipynb").write_text("{}", encoding="utf-8")
    shutil.copy2(START, repo / "start")
    done = _start(home, repo / "start", JUPYTERHUB_USER="learner")
    assert done.returncode == 0, done.stderr
    assert not (home / "course").exists()


def test_copy_missing_reports_what_it_kept_and_rejects_a_missing_source(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.txt").write_text("new", encoding="utf-8")
    (source / ".ipynb_checkpoints").mkdir()
    (source / ".ipynb_checkpoints" / "x.ipynb").write_text("{}", encoding="utf-8")
    dest = tmp_path / "dest"
    (dest / "sub").mkdir(parents=True)
    (dest / "sub" / "a.txt").write_text("old", encoding="utf-8")
    copied, kept = homecourse.copy_missing(source, dest)
    assert (copied, kept) == ([], [Path("sub/a.txt")])
    assert (dest / "sub" / "a.txt").read_text(encoding="utf-8") == "old"
    assert not (dest / ".ipynb_checkpoints").exists()
    assert homecourse.main(["homecourse", str(tmp_path / "nowhere"), str(dest)]) == 1
