"""`make grade`'s command line (autograder/grade.py): what it refuses before anything is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grade import main


def test_no_submissions_is_said_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["00_warmup", "--root", str(tmp_path), "--sandbox", "off"]) == 1
    out = capsys.readouterr().out
    assert out.strip() == f"no submissions of 00_warmup under {tmp_path / 'submitted'}/<student>/00_warmup/"
    assert not (tmp_path / "gradebook.db").exists()


def test_an_unknown_assignment_is_refused_with_the_list(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "submitted" / "ann" / "nope").mkdir(parents=True)
    assert main(["nope", "--root", str(tmp_path), "--sandbox", "off"]) == 2
    out = capsys.readouterr().out
    assert "nope is not an assignment of" in out and "00_warmup" in out and "nothing was graded" in out
    assert not (tmp_path / "gradebook.db").exists()


def test_a_bad_sandbox_mode_is_refused_by_the_parser(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["00_warmup", "--root", str(tmp_path), "--sandbox", "maybe"])
