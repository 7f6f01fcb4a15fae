"""The ``losslab`` command: ``losslab report`` prints the environment report for a bug report.

Other verbs are added by the modules that own them (self-grading lives with the grading driver).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="losslab", description="Loss Lab's command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("report", help="print the environment report (paste it into a bug report)")
    args = parser.parse_args(argv)
    if args.command == "report":
        import losslab
        from losslab import environment

        print(f"Loss Lab {losslab.__version__}")
        print(environment.report())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
