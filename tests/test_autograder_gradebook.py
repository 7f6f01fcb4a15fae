"""The gradebook through nbgrader's API (autograder/gradebook.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.gradebook import (
    copy_database,
    database_ok,
    merge_submission,
    open_gradebook,
    read_scores,
    record_zero,
    retry,
)

# ----------------------------------------------------------------------------------------------- gradebook


@pytest.fixture(scope="module")
def template_gradebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assignment, one notebook with two test cells (1 and 2 points) and an answer cell, one student.

    Creating a gradebook costs nbgrader seconds: the tests copy this one.
    """
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", "losslab") as gb:
        gb.add_assignment("a")
        gb.add_notebook("nb", "a")
        gb.add_grade_cell("t1", "nb", "a", max_score=1, cell_type="code")
        gb.add_grade_cell("t2", "nb", "a", max_score=2, cell_type="code")
        gb.add_solution_cell("s1", "nb", "a")
        gb.add_student("alice")
    return path


def _small_gradebook(template: Path, path: Path) -> str:
    copy_database(template, path)
    return f"sqlite:///{path}"


def test_merge_keeps_manual_grades(tmp_path: Path, template_gradebook: Path) -> None:
    """Automatic grades, comments and new students come over from a staging gradebook; manual grades stay."""
    main = _small_gradebook(template_gradebook, tmp_path / "gradebook.db")
    with open_gradebook(main) as gb:
        gb.add_submission("a", "alice")
        gb.find_grade("t2", "nb", "a", "alice").manual_score = 1.5
        gb.db.commit()
    copy_database(tmp_path / "gradebook.db", tmp_path / "stage.db")
    stage = f"sqlite:///{tmp_path / 'stage.db'}"
    with open_gradebook(stage) as gb:
        gb.add_student("bob")
        gb.add_submission("a", "bob")
        gb.find_grade("t1", "nb", "a", "bob").auto_score = 1.0
        gb.find_grade("t2", "nb", "a", "bob").auto_score = 0.0
        gb.find_grade("t2", "nb", "a", "alice").auto_score = 2.0
        gb.find_comment("s1", "nb", "a", "bob").auto_comment = "No response."
        gb.db.commit()
    merge_submission(main, stage, "a", "bob")
    merge_submission(main, stage, "a", "alice")
    with open_gradebook(main) as gb:
        bob = gb.find_submission("a", "bob")
        assert (bob.score, bob.max_score) == (1.0, 3.0)
        assert gb.find_comment("s1", "nb", "a", "bob").auto_comment == "No response."
        alice = gb.find_grade("t2", "nb", "a", "alice")
        assert alice.manual_score == 1.5 and alice.auto_score == 2.0 and alice.needs_manual_grade
    assert database_ok(tmp_path / "gradebook.db")


def test_gradebook_writes_wait_for_another_writer(tmp_path: Path, template_gradebook: Path) -> None:
    """A program holding the database (formgrader) delays the driver's writes; they do not fail."""
    import sqlite3
    import threading
    import time

    url = _small_gradebook(template_gradebook, tmp_path / "gradebook.db")
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        db = sqlite3.connect(str(tmp_path / "gradebook.db"), timeout=30)
        db.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(10)
        db.rollback()
        db.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    threading.Timer(2.0, release.set).start()
    started = time.perf_counter()
    retry(lambda: record_zero(url, "a", "alice"))
    waited = time.perf_counter() - started
    holder.join()
    assert waited >= 1.5
    scores = read_scores("a", tmp_path)
    assert scores["alice"].cells == {"t1": (0.0, 1.0), "t2": (0.0, 2.0)}
