"""The ``losslab`` command (also ``python -m losslab``).

- ``losslab report``: the environment report, to paste into a bug report;
- ``losslab self-grade [ASSIGNMENT...]``: grade your own exercises in course/ with the real hidden tests and
  print a score report with the reason for every failed test (autograder/selfgrade.py; needs the repository:
  solutions/ and autograder/). Your notebooks are copied, never changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _self_grade(args: argparse.Namespace) -> int:
    try:
        from autograder.grade import Limits
        from autograder.selfgrade import self_grade
    except ImportError as exc:
        print(f"self-grading needs the Loss Lab repository (its solutions/ and autograder/ folders): run it "
              f"from a clone, e.g. `make self-grade ASSIGNMENT=01_losses` ({exc})")
        return 2
    from autograder.release import COURSE, SOLUTIONS

    limits = Limits(wall_s=args.wall, memory_mb=args.memory)
    return self_grade(args.assignment or None, course=args.course or COURSE, source=SOLUTIONS,
                      feedback_dir=args.feedback_dir, limits=limits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="losslab", description="Loss Lab's command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("report", help="print the environment report (paste it into a bug report)")
    grade = sub.add_parser("self-grade", help="grade your exercises in course/ with the real hidden tests")
    grade.add_argument("assignment", nargs="*", help="e.g. 01_losses (default: every exercise you started)")
    grade.add_argument("--course", type=Path, default=None, help="the folder of your exercises (course/)")
    grade.add_argument("--feedback-dir", type=Path, default=None,
                       help="where the feedback HTML goes (default: ~/.losslab/feedback)")
    grade.add_argument("--wall", type=float, default=600.0, help="seconds per exercise (default %(default)s)")
    grade.add_argument("--memory", type=float, default=2000.0, help="MB for the kernel (default %(default)s)")
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
