"""losslab/cli.py: ``losslab self-grade`` runs the grader as a command (``python -m autograder.selfgrade``);
the library never imports autograder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from losslab import cli
from tests.support import REPO


def _args(*argv: str):  # an argparse.Namespace
    captured = {}

    def fake(args):
        captured["args"] = args
        return 0

    original = cli._self_grade
    cli._self_grade = fake
    try:
        cli.main(["self-grade", *argv])
    finally:
        cli._self_grade = original
    return captured["args"]


def test_self_grade_builds_the_grader_command(tmp_path: Path) -> None:
    args = _args("01_losses", "--course", str(tmp_path), "--wall", "30")
    command = cli.self_grade_command(args)
    assert command[:4] == [sys.executable, "-m", "autograder.selfgrade", "01_losses"]
    assert command[command.index("--course") + 1] == str(tmp_path.resolve())
    assert command[command.index("--wall") + 1] == "30.0"


def test_self_grade_leaves_the_limits_to_the_grader_unless_given(tmp_path: Path) -> None:
    command = cli.self_grade_command(_args("01_losses", "--course", str(tmp_path)))
    assert "--wall" not in command and "--memory" not in command  # one definition: autograder/config.py


def test_self_grade_outside_a_clone_says_what_to_do(tmp_path: Path, capsys) -> None:
    assert cli._self_grade(_args(), repo=tmp_path) == 2
    assert "make self-grade" in capsys.readouterr().out


def test_the_grader_command_exists() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "autograder.selfgrade", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "--course" in done.stdout, done.stderr
