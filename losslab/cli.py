"""The ``losslab`` command (also ``python -m losslab``).

- ``losslab report``: the environment report, to paste into a bug report;
- ``losslab self-grade [ASSIGNMENT...]``: grade your own exercises in course/ with the real hidden tests and
  print a score report with the reason for every failed test. It runs ``python -m autograder.selfgrade`` from
  the repository (solutions/ and autograder/ are not part of the installed library, which never imports
  them). Your notebooks are copied, never changed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from losslab.messages import _

REPO = Path(__file__).resolve().parent.parent


def self_grade_command(args: argparse.Namespace) -> list[str]:
    """The command line that grades: ``python -m autograder.selfgrade`` with the learner's arguments."""
    command = [sys.executable, "-m", "autograder.selfgrade", *args.assignment]
    if args.course is not None:
        command += ["--course", str(Path(args.course).resolve())]
    if args.feedback_dir is not None:
        command += ["--feedback-dir", str(Path(args.feedback_dir).resolve())]
    for flag, value in (("--wall", args.wall), ("--memory", args.memory)):
        if value is not None:  # else autograder.selfgrade's defaults (autograder/config.py) apply
            command += [flag, str(value)]
    return command


def _self_grade(args: argparse.Namespace, repo: Path = REPO) -> int:
    if not (repo / "autograder" / "selfgrade.py").is_file() or not (repo / "solutions").is_dir():
        print(
            _(
                "self-grading needs the Loss Lab repository (its solutions/ and autograder/ folders): run it from "
                "a clone, e.g. `make self-grade ASSIGNMENT=01_losses` (not found under {repo})"
            ).format(repo=repo)
        )
        return 2
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo), env.get("PYTHONPATH", "")) if p)
    return subprocess.run(self_grade_command(args), cwd=repo, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="losslab", description=_("Loss Lab's command line"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("report", help=_("print the environment report (paste it into a bug report)"))
    grade = sub.add_parser("self-grade", help=_("grade your exercises in course/ with the real hidden tests"))
    grade.add_argument("assignment", nargs="*", help=_("e.g. 01_losses (default: every exercise you started)"))
    grade.add_argument("--course", type=Path, default=None, help=_("the folder of your exercises (course/)"))
    grade.add_argument(
        "--feedback-dir", type=Path, default=None, help=_("where the feedback HTML goes (default: ~/.losslab/feedback)")
    )
    grade.add_argument("--wall", type=float, default=None, help=_("seconds per exercise (default: the grader's)"))
    grade.add_argument("--memory", type=float, default=None, help=_("MB for the kernel (default: the grader's)"))
    args = parser.parse_args(argv)
    if args.command == "report":
        import losslab
        from losslab import environment

        print(f"Loss Lab {losslab.__version__}")
        print(environment.report())
        return 0
    if args.command == "self-grade":
        return _self_grade(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
