"""The gradebook, through nbgrader's own API: backups, copies, merges of a staging gradebook, zeros, scores.

Used by autograder/coordinator.py; every write goes through ``retry`` (another program, formgrader, may hold the
database)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from autograder.config import CONFIG
from autograder.records import Result


def db_url(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def course_args(root: Path) -> list[str]:
    return [f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url(root)}"]


# ----------------------------------------------------------------------------------------------- gradebook


def retry(action: Callable[[], object], attempts: int = 20) -> object:
    """Run a gradebook write; if another program holds the database, wait and try again."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return action()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(min(5.0, 0.2 * 2**attempt))
    return None


@contextlib.contextmanager
def open_gradebook(url: str):
    """nbgrader's Gradebook with a generous SQLite busy timeout (another program, formgrader, may be writing).

    SQLAlchemy 2 warns about nbgrader's own way of adding submissions (SAWarning): not ours to fix, not shown.
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(url + ("&" if "?" in url else "?") + "timeout=30", CONFIG.course_id) as gb:
            yield gb


def backup_gradebook(root: Path, keep: int = CONFIG.keep_backups) -> Path | None:
    """A consistent copy of the gradebook (SQLite's backup API) next to it; the newest `keep` are kept."""
    source = root / "gradebook.db"
    if not source.exists():
        return None
    target = root / f"gradebook.db.backup-{time.strftime('%Y%m%d-%H%M%S')}"
    count = 1
    while target.exists():  # two runs within a second: keep both backups
        count += 1
        target = target.with_name(f"{target.name.split('~')[0]}~{count}")
    copy_database(source, target)
    backups = sorted(root.glob("gradebook.db.backup-*"))
    for old in backups[:-keep]:
        old.unlink(missing_ok=True)
    return target


def copy_database(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(str(target))) as dst,
    ):
        src.backup(dst)


def snapshot(db: Path) -> bytes:
    """A consistent copy of a SQLite database, as bytes."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="losslab-db-") as tmp:
        copy_database(db, Path(tmp) / "gradebook.db")
        return (Path(tmp) / "gradebook.db").read_bytes()


def database_ok(path: Path) -> bool:
    """SQLite's own integrity check (read-only)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def merge_submission(main_url: str, stage_url: str, assignment: str, student: str) -> None:
    """Copy one student's automatic grades from a staging gradebook into the real one (nbgrader's API).

    The same fields nbgrader's autograde writes: the submission and its timestamp, each grade's auto_score
    and needs_manual_grade (manual scores are kept), each comment's auto_comment, late penalties.
    """
    from nbgrader.api import MissingEntry

    with open_gradebook(stage_url) as stage, open_gradebook(main_url) as main:
        submitted = stage.find_submission(assignment, student)
        try:
            main.find_student(student)
        except MissingEntry:
            main.add_student(student)
        extra = {"timestamp": submitted.timestamp} if submitted.timestamp else {}
        main.update_or_create_submission(assignment, student, **extra)
        for notebook in submitted.notebooks:
            target = main.find_submission_notebook(notebook.name, assignment, student)
            target.late_submission_penalty = notebook.late_submission_penalty
            for grade in notebook.grades:
                into = main.find_grade(grade.name, notebook.name, assignment, student)
                into.auto_score = grade.auto_score
                into.needs_manual_grade = into.manual_score is not None or grade.auto_score is None
            for comment in notebook.comments:
                main.find_comment(comment.name, notebook.name, assignment, student).auto_comment = comment.auto_comment
        main.db.commit()


def record_zero(main_url: str, assignment: str, student: str, notebooks: Iterable[str] | None = None) -> None:
    """Score 0 on every test of the named notebooks (all when None), as nbgrader does for a missing one."""
    from nbgrader.api import MissingEntry

    names = None if notebooks is None else set(notebooks)
    with open_gradebook(main_url) as main:
        try:
            main.find_student(student)
        except MissingEntry:
            main.add_student(student)
        submission = main.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            if names is None or notebook.name in names:
                for grade in notebook.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
        main.db.commit()


def read_scores(assignment: str, root: Path, only: Iterable[str] | None = None) -> dict[str, Result]:
    """Per-student totals and per-cell (score, max) from the gradebook (every student, or those in `only`)."""
    from nbgrader.api import MissingEntry

    out: dict[str, Result] = {}
    with open_gradebook(db_url(root)) as gb:
        ids = list(only) if only is not None else [student.id for student in gb.students]
        for student_id in ids:
            try:
                submission = gb.find_submission(assignment, student_id)
            except MissingEntry:
                continue
            result = Result(student_id, score=submission.score, max_score=submission.max_score)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    result.cells[grade.name] = (float(grade.score), float(grade.max_score))
            out[student_id] = result
    return out
